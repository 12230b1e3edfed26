#include "export_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "engine_controller.h"
#include "folder_field.h"

namespace tb::ui {
ExportPage::ExportPage(EngineController* engine, QWidget* parent) : QWidget(parent), m_engine(engine) {
    m_base = new QLineEdit;
    m_base->setToolTip(tr("model_name_or_path: the unquantized base model the adapter was trained on"));
    m_adapter = new QLineEdit;
    m_adapter->setToolTip(tr("adapter_name_or_path: an adapter folder (output_dir or a checkpoint-N); a comma list merges in order"));
    m_dir = new QLineEdit;
    m_dir->setToolTip(tr("export_dir: a new or empty folder (an earlier export there is replaced)"));
    m_size = new QDoubleSpinBox;
    m_size->setRange(0.1, 100);
    m_size->setValue(1.0);
    m_size->setSuffix(" GB");
    m_size->setToolTip(tr("export_size: the largest shard"));
    m_dtype = new QComboBox;
    m_dtype->addItems({"auto", "float32", "bfloat16", "float16"});
    m_dtype->setToolTip(tr("export_dtype: auto keeps the base model's dtype"));
    m_device = new QComboBox;
    m_device->addItems({"cpu", "auto"});
    m_device->setToolTip(tr("export_device: where the merge is computed"));
    m_legacy = new QCheckBox(tr("pytorch_model.bin instead of safetensors"));
    m_legacy->setToolTip(tr("export_legacy_format"));

    auto* box = new QGroupBox(tr("Merge an adapter into its base model"));
    auto* form = new QFormLayout(box);
    form->addRow(tr("Base model"), folderField(m_base, this));
    form->addRow(tr("Adapter"), folderField(m_adapter, this));
    form->addRow(tr("Export folder"), folderField(m_dir, this));
    form->addRow(tr("Shard size"), m_size);
    form->addRow(tr("Data type"), m_dtype);
    form->addRow(tr("Device"), m_device);
    form->addRow(QString(), m_legacy);
    m_export = new QPushButton(tr("Export"));
    m_result = new QLabel;
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_result->setMinimumHeight(3 * m_result->fontMetrics().lineSpacing());  // two wrapped lines never squeezed
    for (QWidget* w : std::initializer_list<QWidget*>{m_size, m_dtype, m_device}) w->setMaximumWidth(220);
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(box);
    layout->addLayout(buttons);
    layout->addWidget(m_result);
    layout->addWidget(m_log, 1);

    connect(m_export, &QPushButton::clicked, this, &ExportPage::startExport);
    auto* worker = m_engine->worker();
    connect(worker, &EngineWorker::exportStatus, this, [this](const QString& s) {
        if (m_running) m_log->appendPlainText(s);
    });
    connect(worker, &EngineWorker::exportFinished, this, [this](const QString& summary, bool verified, const QString& check) {
        if (!m_running) return;
        setRunning(false);
        m_result->setText((verified ? tr("Exported and verified: %1.\n%2") : tr("Exported, but the check FAILED: %1.\n%2"))
                              .arg(summary, check));
        m_log->appendPlainText(m_result->text());
        Q_EMIT exportFinished(verified, summary);
    });
    connect(worker, &EngineWorker::failed, this, [this](const QString& message, const QString& hint) {
        if (!m_running) return;
        setRunning(false);
        m_result->setText(tr("Export failed: %1").arg(message) + (hint.isEmpty() ? QString() : tr("\nHint: %1").arg(hint)));
        m_log->appendPlainText(m_result->text());
        Q_EMIT exportFinished(false, message);
    });
}

void ExportPage::setPaths(const QString& baseModel, const QString& adapter, const QString& exportDir) {
    m_base->setText(baseModel);
    m_adapter->setText(adapter);
    m_dir->setText(exportDir);
}

void ExportPage::startExport() {
    if (m_running) return;
    setRunning(true);
    m_result->clear();
    m_log->appendPlainText(tr("Exporting %1 + %2 → %3").arg(m_base->text(), m_adapter->text(), m_dir->text()));
    m_engine->requestExport({{"model_name_or_path", m_base->text()},
                             {"adapter_name_or_path", m_adapter->text()},
                             {"export_dir", m_dir->text()},
                             {"export_size", m_size->value()},
                             {"export_dtype", m_dtype->currentText()},
                             {"export_device", m_device->currentText()},
                             {"export_legacy_format", m_legacy->isChecked() ? "true" : "false"}});
}

void ExportPage::setRunning(bool running) {
    m_running = running;
    m_export->setEnabled(!running);
}

QString ExportPage::resultText() const { return m_result->text(); }

}  // namespace tb::ui
