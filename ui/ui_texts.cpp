#include "ui_texts.h"

#include <QCoreApplication>
#include <QEvent>
#include <QLabel>
#include <QPointer>
#include <QPushButton>

namespace tb::ui {

UiTexts::UiTexts(QObject* owner, const char* context)
    : QObject(owner), m_context(context ? context : owner->metaObject()->className()) {
    owner->installEventFilter(this);
}

QString UiTexts::tr(const char* source) const { return QCoreApplication::translate(m_context.constData(), source); }

void UiTexts::bind(const char* source, std::function<void(const QString&)> apply) {
    apply(tr(source));
    m_bindings.push_back({source, std::move(apply)});
}

void UiTexts::onRetranslate(std::function<void()> refresh) {
    m_bindings.push_back({nullptr, [refresh](const QString&) { refresh(); }});
}

void UiTexts::set(QObject* target, const char* property, const char* source) {
    QPointer<QObject> guard(target);
    bind(source, [guard, property](const QString& text) {
        if (guard) guard->setProperty(property, text);
    });
}

QLabel* UiTexts::label(const char* source) {
    auto* l = new QLabel;
    set(l, "text", source);
    return l;
}

QPushButton* UiTexts::button(const char* source) {
    auto* b = new QPushButton;
    set(b, "text", source);
    return b;
}

void UiTexts::retranslate() {
    for (const auto& b : m_bindings) b.apply(b.source ? tr(b.source) : QString());
}

bool UiTexts::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::LanguageChange && watched == parent()) retranslate();
    return false;
}

}  // namespace tb::ui
