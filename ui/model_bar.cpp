// Model detection runs off the GUI thread (it reads the tokenizer); the memory indicator polls
// the device every two seconds.
#include "model_bar.h"
#include "error_text.h"

#include <QComboBox>
#include <algorithm>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "adapters/adapter_folders.h"
#include "core/device_memory.h"
#include "core/error.h"
#include "folder_field.h"
#include "infer/model_summary.h"
#include "language.h"
#include "tokenizer/chat_template.h"
#include "ui_texts.h"

namespace tb::ui {
namespace {
QComboBox* combo(const QStringList& items) {
    auto* c = new QComboBox;
    c->addItems(items);
    return c;
}
}  // namespace

ModelBar::ModelBar(QWidget* parent) : QWidget(parent), m_texts(new UiTexts(this)) {
    m_language = new QComboBox;
    m_language->addItem("English", "en");
    m_language->addItem("简体中文", "zh_CN");
    m_texts->set(m_language, "toolTip", QT_TR_NOOP("Interface language"));
    m_model = new QLineEdit;
    m_texts->set(m_model, "placeholderText", QT_TR_NOOP("Hugging Face model folder (config.json + weights + tokenizer)"));
    m_texts->set(m_model, "toolTip", QT_TR_NOOP("model_name_or_path: used by every tab"));
    m_info = new QLabel;
    // status labels never set the window's width: long text is cut here and shown whole in the tooltip
    m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_info->setMinimumWidth(120);
    m_finetuning = combo({"lora", "adalora", "freeze", "full"});
    m_texts->set(m_finetuning, "toolTip", QT_TR_NOOP("finetuning_type: LoRA adapters, AdaLoRA adapters (ranks pruned to where they matter), the last layers, or all weights"));
    m_adapter = new QComboBox;
    // a long run path must not widen the bar: the list pops up wide, the box stays
    m_adapter->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_adapter->setMinimumContentsLength(14);
    m_texts->bind(QT_TR_NOOP("(base model only)"), [this](const QString& t) {
        if (m_adapter->count() == 0) m_adapter->addItem(t, QString());
        else m_adapter->setItemText(0, t);
    });
    m_texts->set(m_adapter, "toolTip", QT_TR_NOOP("adapter_name_or_path: a final adapter or a checkpoint-N of a run folder"));
    auto* browseAdapter = new QPushButton;
    m_texts->set(browseAdapter, "text", QT_TR_NOOP("Runs…"));
    m_texts->set(browseAdapter, "toolTip", QT_TR_NOOP("Choose a run folder (a training output_dir) or a folder of runs"));
    m_quant = combo({QString(), "8", "4"});
    m_quant->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_texts->bind(QT_TR_NOOP("none"), [this](const QString& t) { m_quant->setItemText(0, t); });
    m_texts->set(m_quant, "toolTip", QT_TR_NOOP("quantization_bit: QLoRA keeps the base model in 4-bit NF4 or 8-bit"));
    m_template = new QComboBox;
    m_template->addItem(QString(), QString());
    for (const auto& n : ChatTemplate::names()) m_template->addItem(QString::fromStdString(n), QString::fromStdString(n));
    m_texts->bind(QT_TR_NOOP("auto"), [this](const QString& t) { m_template->setItemText(0, t); });
    m_texts->set(m_template, "toolTip", QT_TR_NOOP("template: how conversations are rendered; auto detects it from the model"));
    m_attention = combo({"auto", "sdpa", "fa2", "disabled"});
    m_texts->set(m_attention, "toolTip",
                 QT_TR_NOOP("flash_attn: auto/sdpa use fused attention (FlashAttention on CUDA when it applies); disabled = plain math"));
    m_device = new QComboBox;
    m_device->addItem("auto");
    int gpus = 0;
    for (const auto& d : available_devices()) {
        m_device->addItem(QString::fromStdString(d));
        gpus += d.rfind("cuda", 0) == 0;
    }
    if (gpus > 1) {  // training data-parallel, one process per GPU (nproc_per_node); chat and prediction use the first
        m_device->addItem(QString("cuda × %1").arg(gpus), gpus);
    }
    m_texts->set(m_device, "toolTip",
                 QT_TR_NOOP("device: auto uses the first GPU when there is one; cuda × N trains on all N GPUs at once "
                            "(data parallel, one process per GPU); chat and prediction then use the first"));
    m_memory = new QLabel;
    m_memory->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_memory->setMinimumWidth(60);
    m_memoryBar = new QProgressBar;
    m_memoryBar->setMaximumWidth(90);
    m_memoryBar->setMaximumHeight(14);
    m_memoryBar->setTextVisible(false);

    auto* row1 = new QHBoxLayout;
    row1->addWidget(m_language);
    row1->addWidget(m_texts->label(QT_TR_NOOP("Model")));
    row1->addWidget(folderField(m_model, this), 3);
    row1->addWidget(m_info, 2);
    row1->addWidget(m_texts->label(QT_TR_NOOP("Device")));
    row1->addWidget(m_device);
    row1->addWidget(m_memoryBar);
    row1->addWidget(m_memory, 1);
    auto* row2 = new QHBoxLayout;
    auto add = [&](const char* label, QWidget* w) {
        row2->addWidget(m_texts->label(label));
        row2->addWidget(w);
    };
    add(QT_TR_NOOP("Fine-tuning"), m_finetuning);
    row2->addWidget(m_texts->label(QT_TR_NOOP("Adapter")));
    row2->addWidget(m_adapter, 2);
    row2->addWidget(browseAdapter);
    add(QT_TR_NOOP("Quantization"), m_quant);
    add(QT_TR_NOOP("Template"), m_template);
    add(QT_TR_NOOP("Attention"), m_attention);
    row2->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 0);
    layout->addLayout(row1);
    layout->addLayout(row2);

    connect(m_language, &QComboBox::currentIndexChanged, this, [this] { applyLanguage(m_language->currentData().toString()); });
    connect(m_model, &QLineEdit::textChanged, this, [this] {
        detectModel();
        Q_EMIT modelChanged(m_model->text());
    });
    connect(m_adapter, &QComboBox::currentIndexChanged, this, [this] { Q_EMIT adapterChanged(adapterDir()); });
    connect(browseAdapter, &QPushButton::clicked, this, [this] {
        auto dir = QFileDialog::getExistingDirectory(this, QString(), adapterDir());
        if (!dir.isEmpty()) addRunFolder(dir);
    });
    connect(m_device, &QComboBox::currentIndexChanged, this, &ModelBar::refreshMemory);
    m_texts->onRetranslate([this] { detectModel(); });
    m_memoryTimer = new QTimer(this);
    connect(m_memoryTimer, &QTimer::timeout, this, &ModelBar::refreshMemory);
    m_memoryTimer->start(2000);
    m_texts->onRetranslate([this] { refreshMemory(); });
    refreshMemory();
    detectModel();
}

QString ModelBar::modelDir() const { return m_model->text(); }
void ModelBar::setModelDir(const QString& dir) { m_model->setText(dir); }
QString ModelBar::modelInfo() const { return m_info->text(); }
QString ModelBar::finetuningType() const { return m_finetuning->currentText(); }
QString ModelBar::adapterDir() const { return m_adapter->currentData().toString(); }
QString ModelBar::quantizationBit() const { return m_quant->currentIndex() > 0 ? m_quant->currentText() : QString(); }
QString ModelBar::templateName() const { return m_template->currentData().toString(); }
void ModelBar::setTemplateName(const QString& name) {
    const int i = m_template->findData(name);
    m_template->setCurrentIndex(i < 0 ? 0 : i);
}
QString ModelBar::attention() const { return m_attention->currentText(); }
QString ModelBar::device() const { return processes() > 1 ? QString("cuda") : m_device->currentText(); }
int ModelBar::processes() const { return std::max(1, m_device->currentData().toInt()); }
QVariantMap ModelBar::inferenceArguments() const {
    return {{"model_name_or_path", modelDir()}, {"adapter_name_or_path", adapterDir()}, {"template", templateName()},
            {"device", device()},         {"quantization_bit", quantizationBit()}, {"flash_attn", attention()}};
}
void ModelBar::setArgument(const QString& key, const QString& value) {
    if (key == "model_name_or_path") setModelDir(value);
    else if (key == "adapter_name_or_path") setAdapterDir(value);
    else if (key == "template") setTemplateName(value);
    else if (key == "finetuning_type") m_finetuning->setCurrentText(value);
    else if (key == "quantization_bit") m_quant->setCurrentIndex(value == "8" ? 1 : value == "4" ? 2 : 0);
    else if (key == "flash_attn") m_attention->setCurrentText(value);
    else if (key == "device") {
        if (processes() > 1 && value == "cuda") return;  // set with nproc_per_node
        if (m_device->findText(value) < 0) m_device->addItem(value);
        m_device->setCurrentText(value);
    } else if (key == "nproc_per_node" && value.toInt() > 1) {
        const int i = m_device->findData(value.toInt());
        if (i >= 0) m_device->setCurrentIndex(i);
    }
}

QString ModelBar::memoryText() const { return m_memory->text(); }

void ModelBar::addRunFolder(const QString& dir, const QString& select) {
    while (m_adapter->count() > 1) m_adapter->removeItem(1);
    for (const auto& a : find_adapters(dir.toStdString()))
        m_adapter->addItem(QString::fromStdString(a.label), QString::fromStdString(a.path.string()));
    int i = select.isEmpty() ? (m_adapter->count() > 1 ? 1 : 0) : m_adapter->findData(select);
    m_adapter->setCurrentIndex(i < 0 ? 0 : i);
}

void ModelBar::setAdapterDir(const QString& dir) {
    if (dir.isEmpty()) {
        m_adapter->setCurrentIndex(0);
        return;
    }
    int i = m_adapter->findData(dir);
    if (i < 0) {
        m_adapter->addItem(dir, dir);
        i = m_adapter->count() - 1;
    }
    m_adapter->setCurrentIndex(i);
}

void ModelBar::detectModel() {
    const QString dir = m_model->text();
    if (dir.isEmpty()) {
        m_info->setText(tr("no model folder chosen"));
        return;
    }
    m_info->setText(tr("reading %1 …").arg(dir));
    auto* watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, dir] {
        watcher->deleteLater();
        if (dir == m_model->text()) {
            m_info->setText(watcher->result());
            m_info->setToolTip(watcher->result());
        }
    });
    const QString templ = tr("%1 · %2 parameters · %3 layers · %4 · template %5");
    const QString bad = tr("⚠ %1");
    watcher->setFuture(QtConcurrent::run([dir, templ, bad] {
        try {
            const auto s = describe_model(dir.toStdString());
            return templ.arg(QString::fromStdString(s.architecture), QString::fromStdString(format_parameter_count(s.parameters)))
                .arg(s.layers)
                .arg(QString::fromStdString(s.dtype), QString::fromStdString(s.template_name));
        } catch (const std::exception& e) {
            return bad.arg(errorText(e).message);
        }
    }));
}

void ModelBar::refreshMemory() {
    QString dev = processes() > 1 ? QString("cuda:0") : m_device->currentText();
    if (dev == "auto") dev = m_device->count() > 2 ? m_device->itemText(2) : "cpu";
    const auto c = device_capacity(dev.toStdString());
    const double gib = 1024.0 * 1024 * 1024;
    if (c.total <= 0) {
        m_memory->setText(QString());
        m_memoryBar->hide();
        return;
    }
    m_memoryBar->show();
    m_memoryBar->setRange(0, 1000);
    m_memoryBar->setValue(static_cast<int>(1000.0 * (c.total - c.free) / c.total));
    m_memory->setText(tr("%1: %2 of %3 GiB free").arg(dev).arg(c.free / gib, 0, 'f', 1).arg(c.total / gib, 0, 'f', 1));
}

}  // namespace tb::ui
