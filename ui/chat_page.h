// Chat tab: the top bar's model (and adapter), system prompt, temperature / top-p / max new
// tokens; replies stream in, Stop, Clear, tokens/s. "Compare with the base model" answers each
// message twice, with the adapter and without, side by side.
#pragma once

#include <QWidget>

#include <array>

#include "infer/thought_stream.h"

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace tb::ui {

class EngineController;
class ModelBar;
class UiTexts;

class ChatPage : public QWidget {
    Q_OBJECT
public:
    ChatPage(EngineController* engine, ModelBar* bar, QWidget* parent = nullptr);

    // For tests and the demo: load and send without clicking.
    void load();
    void send(const QString& text);
    QString statusText() const;
    void setCompareWithBase(bool on);
    QPushButton* stopButton() const { return m_stop; }
    QString transcript() const;
    QString baseTranscript() const;

Q_SIGNALS:
    // after the last side answered (or the reply stopped / failed)
    void replyFinished(const QString& finishReason);
    void loaded(const QString& summary);

private:
    void setBusy(bool busy);
    // A reasoning model's reply: its thought under a grey "Thinking…" heading (retitled "Thought"
    // when it closes), then the answer; a reply without <think> shows as it streams.
    void showReply(int side, const std::vector<tb::ThoughtStream::Piece>& pieces);
    void closeThought(int side);
    struct ReplyView {
        tb::ThoughtStream stream;
        int heading = -1;          // where the thought's heading starts in the transcript
        bool thoughtClosed = false;
        bool trimThought = true;   // the thought's leading newlines are the tag's, not text
        bool trimAnswer = false;   // so are the answer's right after a thought
    };
    std::array<ReplyView, 2> m_reply;  // the tuned model's side and the base model's

    EngineController* m_engine;
    ModelBar* m_bar;
    UiTexts* m_texts;
    QLineEdit* m_system;
    QDoubleSpinBox* m_temperature;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_maxNewTokens;
    QCheckBox* m_compare;
    QCheckBox* m_thinking;  // enable_thinking for reasoning templates (qwen3)
    QPlainTextEdit* m_transcript;
    QPlainTextEdit* m_baseTranscript;
    QWidget* m_basePane;
    QLineEdit* m_input;
    QPushButton* m_load;
    QPushButton* m_send;
    QPushButton* m_stop;
    QPushButton* m_clear;
    QLabel* m_status;
    bool m_comparing = false;  // the loaded session answers on both sides
};

}  // namespace tb::ui
