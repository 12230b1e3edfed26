// UiTexts: a page's translatable texts, kept as their English sources so that switching the
// language at runtime re-applies them (Qt's retranslateUi pattern without .ui files). Mark a
// source with QT_TR_NOOP inside the owner's member functions so lupdate files it under the
// owner's class; the owner's LanguageChange event re-applies every text.
#pragma once

#include <QObject>
#include <QString>
#include <functional>
#include <vector>

class QLabel;
class QPushButton;

namespace tb::ui {

class UiTexts : public QObject {
public:
    // context: the translation context of the sources; the owner's class name when null
    explicit UiTexts(QObject* owner, const char* context = nullptr);

    // Sets `property` ("text", "title", "toolTip", "placeholderText", "windowTitle", …) of
    // `target` to the translation of `source`, now and after every language change.
    void set(QObject* target, const char* property, const char* source);
    // A label showing `source`, for form rows.
    QLabel* label(const char* source);
    QPushButton* button(const char* source);
    // Any other use (tab titles, combo items, series names): `apply` gets the translation.
    void bind(const char* source, std::function<void(const QString&)> apply);
    // Dynamic texts (status lines) are built with the owner's tr(); `refresh` rebuilds them.
    void onRetranslate(std::function<void()> refresh);
    QString tr(const char* source) const;
    void retranslate();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct Binding {
        const char* source;
        std::function<void(const QString&)> apply;
    };
    QByteArray m_context;
    std::vector<Binding> m_bindings;
};

}  // namespace tb::ui
