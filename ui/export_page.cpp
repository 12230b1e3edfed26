#include "export_page.h"
#include "message_label.h"

#include <QCheckBox>
#include <QFontDatabase>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "engine_controller.h"
#include "adapter_zip.h"
#include "folder_field.h"
#include "model_bar.h"
#include "ui_texts.h"

namespace tb::ui {
ExportPage::ExportPage(EngineController* engine, ModelBar* bar, QWidget* parent)
    : QWidget(parent), m_engine(engine), m_bar(bar), m_texts(new UiTexts(this)) {
    m_source = messageLabel();
    m_source->setWordWrap(true);
    m_dir = new QLineEdit;
    m_texts->set(m_dir, "toolTip", QT_TR_NOOP("export_dir: a new or empty folder (an earlier export there is replaced)"));
    m_size = new QDoubleSpinBox;
    m_size->setRange(0.1, 100);
    m_size->setValue(1.0);
    m_size->setSuffix(" GB");
    m_texts->set(m_size, "toolTip", QT_TR_NOOP("export_size: the largest shard"));
    m_dtype = new QComboBox;
    m_dtype->addItems({"auto", "float32", "bfloat16", "float16"});
    m_texts->set(m_dtype, "toolTip", QT_TR_NOOP("export_dtype: auto keeps the base model's dtype"));
    m_device = new QComboBox;
    m_device->addItems({"cpu", "auto"});
    m_texts->set(m_device, "toolTip", QT_TR_NOOP("export_device: where the merge is computed"));
    m_legacy = new QCheckBox;
    m_texts->set(m_legacy, "text", QT_TR_NOOP("pytorch_model.bin instead of safetensors"));
    m_texts->set(m_legacy, "toolTip", QT_TR_NOOP("export_legacy_format"));

    m_format = new QComboBox;
    m_format->addItems({"safetensors", "gguf"});
    m_texts->set(m_format, "toolTip", QT_TR_NOOP("export_format: a Hugging Face folder, or one GGUF file for llama.cpp with an Ollama Modelfile beside it"));
    m_ggufType = new QComboBox;
    m_ggufType->addItems({"Q4_K_M", "Q8_0", "Q4_0", "F16", "BF16", "F32"});
    m_texts->set(m_ggufType, "toolTip", QT_TR_NOOP("export_gguf_type: Q4_K_M is the usual choice for llama.cpp / Ollama; Q8_0 nearly lossless"));
    m_quantize = new QComboBox;
    m_quantize->addItem(QString(), 0);
    m_quantize->addItem(QString(), 4);
    m_quantize->addItem(QString(), 8);
    m_texts->bind(QT_TR_NOOP("none (the merged weights)"), [this](const QString& t) { m_quantize->setItemText(0, t); });
    m_texts->bind(QT_TR_NOOP("4-bit NF4 (bitsandbytes, for transformers)"), [this](const QString& t) { m_quantize->setItemText(1, t); });
    m_texts->bind(QT_TR_NOOP("8-bit LLM.int8 (bitsandbytes, for transformers)"), [this](const QString& t) { m_quantize->setItemText(2, t); });
    m_texts->set(m_quantize, "toolTip",
                 QT_TR_NOOP("export_quantization_bit: merge, then write the layers' weights as NF4 with double quantization (4-bit) "
                            "or as int8 rows with their scales (8-bit); transformers + bitsandbytes and Tunebench load it "
                            "without quantizing again"));
    m_compare = new QCheckBox;
    m_texts->set(m_compare, "text", QT_TR_NOOP("Then compare speed and memory (base, adapter, merged, int8, NF4, the export)"));
    m_texts->set(m_compare, "toolTip",
                 QT_TR_NOOP("tunebench-cli bench --compare after the export: decode tokens/s and peak memory of each variant, "
                            "one table in the log (loads the model six times)"));
    auto showFormat = [this] {
        const bool gguf = m_format->currentText() == "gguf";
        const bool quantized = !gguf && m_quantize->currentData().toInt() != 0;  // bitsandbytes needs safetensors
        m_ggufType->setEnabled(gguf);
        m_quantize->setEnabled(!gguf);
        m_size->setEnabled(!gguf);
        m_dtype->setEnabled(!gguf);
        m_legacy->setEnabled(!gguf && !quantized);
        if (quantized) m_legacy->setChecked(false);
    };
    connect(m_format, &QComboBox::currentTextChanged, this, showFormat);
    connect(m_quantize, &QComboBox::currentIndexChanged, this, showFormat);
    showFormat();

    auto* box = new QGroupBox;
    m_texts->set(box, "title", QT_TR_NOOP("Merge the top bar's adapter into its base model"));
    auto* form = new QFormLayout(box);
    form->addRow(m_texts->label(QT_TR_NOOP("Model + adapter")), m_source);
    form->addRow(m_texts->label(QT_TR_NOOP("Export folder")), folderField(m_dir, this));
    form->addRow(m_texts->label(QT_TR_NOOP("Format")), m_format);
    form->addRow(m_texts->label(QT_TR_NOOP("GGUF type")), m_ggufType);
    form->addRow(m_texts->label(QT_TR_NOOP("Quantize")), m_quantize);
    form->addRow(m_texts->label(QT_TR_NOOP("Shard size")), m_size);
    form->addRow(m_texts->label(QT_TR_NOOP("Data type")), m_dtype);
    form->addRow(m_texts->label(QT_TR_NOOP("Device")), m_device);
    form->addRow(QString(), m_legacy);
    form->addRow(QString(), m_compare);
    auto* share = new QPushButton;
    m_texts->set(share, "text", QT_TR_NOOP("Share adapter as .zip…"));
    m_texts->set(share, "toolTip", QT_TR_NOOP("One file with the adapter, its training YAML, the loss plot and a model card"));
    auto* import = new QPushButton;
    m_texts->set(import, "text", QT_TR_NOOP("Import adapter .zip…"));
    auto* zipBox = new QGroupBox;
    m_texts->set(zipBox, "title", QT_TR_NOOP("Share"));
    auto* zipRow = new QHBoxLayout(zipBox);
    zipRow->addWidget(share);
    zipRow->addWidget(import);
    zipRow->addStretch(1);
    connect(share, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getSaveFileName(this, tr("Share adapter"), m_bar->adapterDir() + ".zip", tr("Zip files (*.zip)"));
        if (!f.isEmpty()) shareAdapter(f);
    });
    connect(import, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("Import adapter"), QString(), tr("Zip files (*.zip)"));
        if (f.isEmpty()) return;
        QFileInfo fi(f);
        auto target = QFileDialog::getSaveFileName(this, tr("New adapter folder"), fi.absolutePath() + "/" + fi.completeBaseName());
        if (!target.isEmpty()) importAdapter(f, target);
    });
    auto updateSource = [this] {
        m_source->setText(m_bar->adapterDir().isEmpty() ? tr("%1 — choose an adapter in the top bar").arg(m_bar->modelDir())
                                                         : tr("%1 + %2").arg(m_bar->modelDir(), m_bar->adapterDir()));
    };
    connect(m_bar, &ModelBar::modelChanged, this, updateSource);
    connect(m_bar, &ModelBar::adapterChanged, this, updateSource);
    m_texts->onRetranslate(updateSource);
    updateSource();
    m_export = m_texts->button(QT_TR_NOOP("Export"));
    m_result = messageLabel();
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_result->setMinimumHeight(3 * m_result->fontMetrics().lineSpacing());  // two wrapped lines never squeezed
    for (QWidget* w : std::initializer_list<QWidget*>{m_size, m_dtype, m_device}) w->setMaximumWidth(220);
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));  // the compare table's columns
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(box);
    layout->addWidget(zipBox);
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
    connect(worker, &EngineWorker::failed, this, [this](EngineJob job, const QString& message, const QString& hint) {
        if (job != EngineJob::Export) return;  // another page's request
        if (!m_running) return;
        setRunning(false);
        m_result->setText(tr("Export failed: %1").arg(message) + (hint.isEmpty() ? QString() : tr("\nHint: %1").arg(hint)));
        m_log->appendPlainText(m_result->text());
        Q_EMIT exportFinished(false, message);
    });
}

void ExportPage::setExportDir(const QString& exportDir) { m_dir->setText(exportDir); }

void ExportPage::showZipResult(const ZipResult& r) {
    m_result->setText(r.ok ? r.message : tr("Error: %1").arg(r.message));
    m_log->appendPlainText(m_result->text());
}

bool ExportPage::shareAdapter(const QString& zipPath) {
    const auto r = exportAdapterZip(m_bar->adapterDir(), zipPath);
    showZipResult(r);
    return r.ok;
}

bool ExportPage::importAdapter(const QString& zipPath, const QString& targetDir) {
    const auto r = importAdapterZip(zipPath, targetDir);
    showZipResult(r);
    if (r.ok) m_bar->setAdapterDir(targetDir);
    return r.ok;
}

void ExportPage::startExport() {
    if (m_running) return;
    setRunning(true);
    m_result->clear();
    m_log->appendPlainText(tr("Exporting %1 + %2 → %3").arg(m_bar->modelDir(), m_bar->adapterDir(), m_dir->text()));
    m_engine->requestExport({{"model_name_or_path", m_bar->modelDir()},
                             {"adapter_name_or_path", m_bar->adapterDir()},
                             {"export_dir", m_dir->text()},
                             {"export_size", m_size->value()},
                             {"export_dtype", m_dtype->currentText()},
                             {"export_device", m_device->currentText()},
                             {"export_legacy_format", m_legacy->isChecked() ? "true" : "false"},
                             {"export_format", m_format->currentText()},
                             {"export_gguf_type", m_ggufType->currentText()},
                             {"export_quantization_bit",
                              m_format->currentText() == "gguf" || m_quantize->currentData().toInt() == 0
                                  ? QString()
                                  : QString::number(m_quantize->currentData().toInt())},
                             {"compare_after", m_compare->isChecked() ? "true" : "false"}});
}

void ExportPage::setRunning(bool running) {
    m_running = running;
    m_export->setEnabled(!running);
}

QString ExportPage::resultText() const { return m_result->text(); }
QString ExportPage::logText() const { return m_log->toPlainText(); }

}  // namespace tb::ui
