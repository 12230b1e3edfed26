// Chat tab layout and wiring.
#include "chat_page.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "engine_controller.h"

namespace tb::ui {

ChatPage::ChatPage(EngineController* engine, QWidget* parent) : QWidget(parent), m_engine(engine) {
    m_modelDir = new QLineEdit;
    m_modelDir->setPlaceholderText(tr("Hugging Face model folder (config.json + weights + tokenizer)"));
    auto* browse = new QPushButton(tr("Browse…"));
    m_template = new QComboBox;
    m_template->addItem(tr("auto"), QString());
    for (const char* t : {"chatglm3", "chatglm2", "llama3", "llama2", "qwen", "default", "alpaca", "empty"})
        m_template->addItem(t, QString(t));
    m_device = new QComboBox;
    m_device->addItems({"auto", "cpu", "cuda"});
    m_load = new QPushButton(tr("Load model"));
    m_adapterDir = new QLineEdit;
    m_adapterDir->setPlaceholderText(tr("optional LoRA adapter folder (a training output_dir or checkpoint-N)"));
    m_system = new QLineEdit;
    m_system->setPlaceholderText(tr("optional system prompt (applies when the model is loaded)"));
    m_temperature = new QDoubleSpinBox;
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(0.95);
    m_temperature->setToolTip(tr("0 = greedy decoding"));
    m_topP = new QDoubleSpinBox;
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(0.7);
    m_maxNewTokens = new QSpinBox;
    m_maxNewTokens->setRange(1, 8192);
    m_maxNewTokens->setValue(512);

    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(m_modelDir, 1);
    modelRow->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow(tr("Model"), modelRow);
    form->addRow(tr("Adapter"), m_adapterDir);
    auto* opts = new QHBoxLayout;
    opts->addWidget(new QLabel(tr("Template")));
    opts->addWidget(m_template);
    opts->addWidget(new QLabel(tr("Device")));
    opts->addWidget(m_device);
    opts->addWidget(new QLabel(tr("Temperature")));
    opts->addWidget(m_temperature);
    opts->addWidget(new QLabel(tr("Top-p")));
    opts->addWidget(m_topP);
    opts->addWidget(new QLabel(tr("Max new tokens")));
    opts->addWidget(m_maxNewTokens);
    opts->addStretch(1);
    opts->addWidget(m_load);
    form->addRow(tr("Settings"), opts);
    form->addRow(tr("System"), m_system);

    m_transcript = new QPlainTextEdit;
    m_transcript->setReadOnly(true);
    m_input = new QLineEdit;
    m_input->setPlaceholderText(tr("Type a message and press Enter"));
    m_send = new QPushButton(tr("Send"));
    m_stop = new QPushButton(tr("Stop"));
    m_clear = new QPushButton(tr("Clear history"));
    auto* inputRow = new QHBoxLayout;
    inputRow->addWidget(m_input, 1);
    inputRow->addWidget(m_send);
    inputRow->addWidget(m_stop);
    inputRow->addWidget(m_clear);
    m_status = new QLabel(tr("No model loaded."));

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_transcript, 1);
    layout->addLayout(inputRow);
    layout->addWidget(m_status);
    setBusy(false);
    m_send->setEnabled(false);

    connect(browse, &QPushButton::clicked, this, [this] {
        auto dir = QFileDialog::getExistingDirectory(this, tr("Model folder"), m_modelDir->text());
        if (!dir.isEmpty()) m_modelDir->setText(dir);
    });
    connect(m_load, &QPushButton::clicked, this, &ChatPage::load);
    connect(m_send, &QPushButton::clicked, this, [this] { send(m_input->text()); });
    connect(m_input, &QLineEdit::returnPressed, this, [this] { send(m_input->text()); });
    connect(m_stop, &QPushButton::clicked, this, [this] { m_engine->requestStop(); });
    connect(m_clear, &QPushButton::clicked, this, [this] {
        m_engine->requestClearChat();
        m_transcript->clear();
    });

    auto* w = m_engine->worker();
    connect(w, &EngineWorker::chatLoaded, this, [this](const QString& summary) {
        m_status->setText(tr("Loaded: %1").arg(summary));
        m_transcript->clear();
        setBusy(false);
        m_send->setEnabled(true);
        Q_EMIT loaded(summary);
    });
    connect(w, &EngineWorker::chatChunk, this, [this](const QString& text) {
        m_transcript->moveCursor(QTextCursor::End);
        m_transcript->insertPlainText(text);
    });
    connect(w, &EngineWorker::chatFinished, this, [this](const QString& reason, qint64 tokens, double tps) {
        m_transcript->appendPlainText(QString());
        m_status->setText(tr("%1 tokens, %2 tokens/s (%3)").arg(tokens).arg(tps, 0, 'f', 1).arg(reason));
        setBusy(false);
        Q_EMIT replyFinished(reason);
    });
    connect(w, &EngineWorker::failed, this, [this](const QString& message, const QString& hint) {
        m_status->setText(hint.isEmpty() ? tr("Error: %1").arg(message) : tr("Error: %1 — %2").arg(message, hint));
        setBusy(false);
        Q_EMIT replyFinished("error");
    });
}

void ChatPage::setModelDir(const QString& dir) { m_modelDir->setText(dir); }

void ChatPage::setAdapterDir(const QString& dir) { m_adapterDir->setText(dir); }
QString ChatPage::modelDir() const { return m_modelDir->text(); }
QString ChatPage::transcript() const { return m_transcript->toPlainText(); }

void ChatPage::load() {
    m_status->setText(tr("Loading %1 …").arg(m_modelDir->text()));
    setBusy(true);
    m_engine->requestLoadChat(m_modelDir->text(), m_adapterDir->text(), m_template->currentData().toString(), m_device->currentText(),
                              m_system->text());
}

void ChatPage::send(const QString& text) {
    if (text.trimmed().isEmpty()) return;
    m_transcript->appendPlainText(tr("User: %1").arg(text));
    m_transcript->appendPlainText(tr("Assistant: "));
    m_input->clear();
    setBusy(true);
    m_engine->requestChat(text, m_temperature->value(), m_topP->value(), m_maxNewTokens->value());
}

void ChatPage::setBusy(bool busy) {
    m_send->setEnabled(!busy);
    m_load->setEnabled(!busy);
    m_stop->setEnabled(busy);
}

}  // namespace tb::ui
