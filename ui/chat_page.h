// Chat tab: load a model folder, system prompt, temperature / top-p / max new tokens, replies
// stream in, Stop, Clear, tokens/s. (Adapters and side-by-side compare: the GUI issue.)
#pragma once

#include <QWidget>

class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QDoubleSpinBox;
class QSpinBox;
class QLabel;
class QComboBox;

namespace tb::ui {

class EngineController;

class ChatPage : public QWidget {
    Q_OBJECT
public:
    ChatPage(EngineController* engine, QWidget* parent = nullptr);
    void setModelDir(const QString& dir);
    void setAdapterDir(const QString& dir);  // empty: the base model alone
    QString modelDir() const;

    // For tests and the demo: load and send without clicking.
    void load();
    void send(const QString& text);
    QPushButton* stopButton() const { return m_stop; }
    QString transcript() const;

Q_SIGNALS:
    void replyFinished(const QString& finishReason);
    void loaded(const QString& summary);

private:
    void setBusy(bool busy);

    EngineController* m_engine;
    QLineEdit* m_modelDir;
    QLineEdit* m_adapterDir;
    QComboBox* m_template;
    QComboBox* m_device;
    QLineEdit* m_system;
    QDoubleSpinBox* m_temperature;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_maxNewTokens;
    QPlainTextEdit* m_transcript;
    QLineEdit* m_input;
    QPushButton* m_load;
    QPushButton* m_send;
    QPushButton* m_stop;
    QPushButton* m_clear;
    QLabel* m_status;
};

}  // namespace tb::ui
