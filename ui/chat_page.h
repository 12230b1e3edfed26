// Chat tab: the top bar's model (and adapter), system prompt, temperature / top-p / max new
// tokens; replies stream in, Stop, Clear, tokens/s. "Compare with the base model" answers each
// message twice, with the adapter and without, side by side.
#pragma once

#include <QWidget>

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
