// Chat tab layout and wiring.
#include "chat_page.h"

#include <QColor>
#include <QFont>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QTextDocument>
#include "message_label.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include "engine_controller.h"
#include "model_bar.h"
#include "ui_texts.h"

namespace tb::ui {
namespace {
QPlainTextEdit* transcriptView() {
    auto* t = new QPlainTextEdit;
    t->setReadOnly(true);
    return t;
}
}  // namespace

ChatPage::ChatPage(EngineController* engine, ModelBar* bar, QWidget* parent)
    : QWidget(parent), m_engine(engine), m_bar(bar), m_texts(new UiTexts(this)) {
    m_load = m_texts->button(QT_TR_NOOP("Load model"));
    m_texts->set(m_load, "toolTip", QT_TR_NOOP("Loads the top bar's model, with its adapter when one is chosen"));
    m_system = new QLineEdit;
    m_texts->set(m_system, "placeholderText", QT_TR_NOOP("optional system prompt (applies when the model is loaded)"));
    m_temperature = new QDoubleSpinBox;
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(0.95);
    m_texts->set(m_temperature, "toolTip", QT_TR_NOOP("0 = greedy decoding"));
    m_topP = new QDoubleSpinBox;
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(0.7);
    m_maxNewTokens = new QSpinBox;
    m_maxNewTokens->setRange(1, 8192);
    m_maxNewTokens->setValue(512);
    m_compare = new QCheckBox;
    m_texts->set(m_compare, "text", QT_TR_NOOP("Compare with the base model"));
    m_texts->set(m_compare, "toolTip", QT_TR_NOOP("Each message is also answered by the base model without the adapter (loads the base a second time)"));

    m_thinking = new QCheckBox;
    m_thinking->setChecked(true);
    m_texts->set(m_thinking, "text", QT_TR_NOOP("Enable thinking"));
    m_texts->set(m_thinking, "toolTip", QT_TR_NOOP("Reasoning models (qwen3 template): off puts an empty thought in the prompt so the model answers directly (applies when the model is loaded)"));

    auto* opts = new QHBoxLayout;
    for (auto [label, w] : std::initializer_list<std::pair<const char*, QWidget*>>{
             {QT_TR_NOOP("Temperature"), m_temperature}, {QT_TR_NOOP("Top-p"), m_topP}, {QT_TR_NOOP("Max new tokens"), m_maxNewTokens}}) {
        opts->addWidget(m_texts->label(label));
        opts->addWidget(w);
    }
    opts->addWidget(m_compare);
    opts->addWidget(m_thinking);
    opts->addStretch(1);
    opts->addWidget(m_load);
    auto* form = new QFormLayout;
    form->addRow(m_texts->label(QT_TR_NOOP("Settings")), opts);
    form->addRow(m_texts->label(QT_TR_NOOP("System")), m_system);

    m_transcript = transcriptView();
    m_baseTranscript = transcriptView();
    auto pane = [this](const char* title, QPlainTextEdit* view) {
        auto* w = new QWidget;
        auto* l = new QVBoxLayout(w);
        l->setContentsMargins(0, 0, 0, 0);
        l->addWidget(m_texts->label(title));
        l->addWidget(view, 1);
        return w;
    };
    auto* split = new QSplitter;
    split->addWidget(pane(QT_TR_NOOP("With the adapter (or the model alone)"), m_transcript));
    m_basePane = pane(QT_TR_NOOP("Base model, without the adapter"), m_baseTranscript);
    split->addWidget(m_basePane);
    m_basePane->hide();

    m_input = new QLineEdit;
    m_texts->set(m_input, "placeholderText", QT_TR_NOOP("Type a message and press Enter"));
    m_send = m_texts->button(QT_TR_NOOP("Send"));
    m_stop = m_texts->button(QT_TR_NOOP("Stop"));
    m_clear = m_texts->button(QT_TR_NOOP("Clear history"));
    auto* inputRow = new QHBoxLayout;
    inputRow->addWidget(m_input, 1);
    inputRow->addWidget(m_send);
    inputRow->addWidget(m_stop);
    inputRow->addWidget(m_clear);
    m_status = messageLabel();
    m_texts->set(m_status, "text", QT_TR_NOOP("No model loaded."));

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(split, 1);
    layout->addLayout(inputRow);
    layout->addWidget(m_status);
    setBusy(false);
    m_send->setEnabled(false);

    connect(m_load, &QPushButton::clicked, this, &ChatPage::load);
    connect(m_send, &QPushButton::clicked, this, [this] { send(m_input->text()); });
    connect(m_input, &QLineEdit::returnPressed, this, [this] { send(m_input->text()); });
    connect(m_stop, &QPushButton::clicked, this, [this] { m_engine->requestStop(); });
    connect(m_clear, &QPushButton::clicked, this, [this] {
        m_engine->requestClearChat();
        m_transcript->clear();
        m_baseTranscript->clear();
    });

    auto* w = m_engine->worker();
    connect(w, &EngineWorker::chatLoaded, this, [this](const QString& summary) {
        m_status->setText(tr("Loaded: %1").arg(summary));
        m_transcript->clear();
        m_baseTranscript->clear();
        m_basePane->setVisible(m_comparing);
        setBusy(false);
        m_send->setEnabled(true);
        Q_EMIT loaded(summary);
    });
    connect(w, &EngineWorker::chatChunk, this, [this](const QString& text, int side) {
        showReply(side, m_reply[side].stream.push(text.toStdString()));
    });
    connect(w, &EngineWorker::chatFinished, this, [this](const QString& reason, qint64 tokens, double tps, int side) {
        showReply(side, m_reply[side].stream.flush());
        closeThought(side);
        (side == 0 ? m_transcript : m_baseTranscript)->appendPlainText(QString());
        m_status->setText(tr("%1 tokens, %2 tokens/s (%3)").arg(tokens).arg(tps, 0, 'f', 1).arg(reason));
        if (m_comparing && side == 0 && reason != "cancelled") return;  // the base model answers next
        setBusy(false);
        Q_EMIT replyFinished(reason);
    });
    connect(w, &EngineWorker::failed, this, [this](EngineJob job, const QString& message, const QString& hint) {
        if (job != EngineJob::Chat) return;  // another page's request
        m_status->setText(hint.isEmpty() ? tr("Error: %1").arg(message) : tr("Error: %1 — %2").arg(message, hint));
        setBusy(false);
        Q_EMIT replyFinished("error");
    });
}

QString ChatPage::statusText() const { return m_status->text(); }
QString ChatPage::transcript() const { return m_transcript->toPlainText(); }
QString ChatPage::baseTranscript() const { return m_baseTranscript->toPlainText(); }
void ChatPage::setCompareWithBase(bool on) { m_compare->setChecked(on); }

void ChatPage::load() {
    m_status->setText(tr("Loading %1 …").arg(m_bar->modelDir()));
    setBusy(true);
    m_comparing = m_compare->isChecked() && !m_bar->adapterDir().isEmpty();
    QVariantMap a = m_bar->inferenceArguments();
    a["system"] = m_system->text();
    a["enable_thinking"] = m_thinking->isChecked() ? "true" : "false";
    m_engine->requestLoadChat(a, m_comparing);
}

void ChatPage::showReply(int side, const std::vector<tb::ThoughtStream::Piece>& pieces) {
    auto& r = m_reply[side];
    auto* view = side == 0 ? m_transcript : m_baseTranscript;
    QTextCursor c(view->document());
    c.movePosition(QTextCursor::End);
    QTextCharFormat grey;
    grey.setForeground(QColor(110, 110, 110));
    for (const auto& p : pieces) {
        QString text = QString::fromStdString(p.text);
        if (p.thought) {
            if (r.heading < 0) {
                QTextCharFormat heading = grey;
                heading.setFontWeight(QFont::Bold);
                r.heading = c.position();
                c.insertText(tr("Thinking…"), heading);
                c.insertText("\n", grey);
            }
            if (r.trimThought) {
                while (text.startsWith('\n')) text.remove(0, 1);
                r.trimThought = text.isEmpty();
            }
            QTextCharFormat thought = grey;
            thought.setFontItalic(true);
            c.insertText(text, thought);
            continue;
        }
        closeThought(side);
        c.movePosition(QTextCursor::End);
        if (r.trimAnswer) {
            while (text.startsWith('\n')) text.remove(0, 1);
            r.trimAnswer = text.isEmpty();
        }
        c.insertText(text, QTextCharFormat());
    }
    view->moveCursor(QTextCursor::End);
}

void ChatPage::closeThought(int side) {
    auto& r = m_reply[side];
    if (r.heading < 0 || r.thoughtClosed) return;
    auto* view = side == 0 ? m_transcript : m_baseTranscript;
    QTextCursor h(view->document());
    h.setPosition(r.heading);
    h.setPosition(r.heading + tr("Thinking…").size(), QTextCursor::KeepAnchor);
    QTextCharFormat heading;
    heading.setForeground(QColor(110, 110, 110));
    heading.setFontWeight(QFont::Bold);
    h.insertText(tr("Thought"), heading);
    QTextCursor end(view->document());
    end.movePosition(QTextCursor::End);
    end.insertText("\n", QTextCharFormat());
    r.thoughtClosed = true;
    r.trimAnswer = true;
}

void ChatPage::send(const QString& text) {
    if (text.trimmed().isEmpty()) return;
    m_reply = {};
    for (auto* view : {m_transcript, m_baseTranscript}) {
        if (view == m_baseTranscript && !m_comparing) break;
        view->appendPlainText(tr("User: %1").arg(text));
        view->appendPlainText(tr("Assistant: "));
    }
    m_input->clear();
    setBusy(true);
    if (m_engine->isTraining())
        m_status->setText(tr("Waiting: the engine is training (Train tab); this message is answered when the run ends or is stopped."));
    m_engine->requestChat(text, m_temperature->value(), m_topP->value(), m_maxNewTokens->value());
}

void ChatPage::setBusy(bool busy) {
    m_send->setEnabled(!busy);
    m_load->setEnabled(!busy);
    m_stop->setEnabled(busy);
}

}  // namespace tb::ui
