// The Train tab. Arguments go to the engine thread as LLaMA-Factory keys; the engine validates
// them (the same code as `tunebench-cli train`), so the GUI shows the same errors and hints.
#include "train_page.h"

#include <QChartView>
#include <QComboBox>
#include <QPen>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QValueAxis>
#include <QVBoxLayout>
#include <cmath>

#include "core/error.h"
#include "io/atomic_file.h"
#include "data/dataset_registry.h"
#include "arg_map.h"
#include "engine_controller.h"
#include "folder_field.h"
#include "tokenizer/chat_template.h"
#include "train/memory_estimate.h"
#include "train/training_args.h"

namespace tb::ui {
namespace {

QString duration(double s) {
    const auto t = static_cast<qint64>(s);
    return QString("%1:%2:%3").arg(t / 3600).arg(t / 60 % 60, 2, 10, QChar('0')).arg(t % 60, 2, 10, QChar('0'));
}


QSpinBox* spin(int lo, int hi, int value, const QString& tip) {
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(value);
    s->setToolTip(tip);
    return s;
}

QDoubleSpinBox* dspin(double lo, double hi, double value, int decimals, const QString& tip) {
    auto* s = new QDoubleSpinBox;
    s->setRange(lo, hi);
    s->setDecimals(decimals);
    s->setValue(value);
    s->setToolTip(tip);
    return s;
}

QComboBox* combo(const QStringList& items, const QString& tip) {
    auto* c = new QComboBox;
    c->addItems(items);
    c->setToolTip(tip);
    return c;
}

}  // namespace

TrainPage::TrainPage(EngineController* engine, QWidget* parent) : QWidget(parent), m_engine(engine) {
    // --- form, LLaMA-Factory defaults ---
    m_modelDir = new QLineEdit;
    m_modelDir->setToolTip(tr("model_name_or_path: a local Hugging Face model folder"));
    QStringList templates{tr("auto")};
    for (const auto& n : ChatTemplate::names()) templates << QString::fromStdString(n);
    m_template = combo(templates, tr("template: how conversations are rendered; auto detects it from the model"));
    m_device = combo({"auto", "cpu", "cuda"}, tr("device: auto uses the GPU when there is one"));
    m_datasetDir = new QLineEdit;
    m_datasetDir->setToolTip(tr("dataset_dir: the folder with dataset_info.json"));
    m_dataset = combo({}, tr("dataset: a dataset registered in dataset_info.json"));
    m_dataset->setEditable(true);
    m_cutoff = spin(16, 131072, 2048, tr("cutoff_len: longest tokenized example; longer ones are truncated"));
    m_valSize = dspin(0, 0.5, 0, 3, tr("val_size: fraction held out for eval loss (0 = none)"));
    m_method = combo({"lora", "freeze", "full"}, tr("finetuning_type: LoRA adapters, the last layers, or all weights"));
    m_quant = combo({tr("none"), "8", "4"}, tr("quantization_bit: QLoRA keeps the base in 4-bit NF4 or 8-bit"));
    m_rank = spin(1, 1024, 8, tr("lora_rank"));
    m_alpha = spin(0, 4096, 0, tr("lora_alpha (0 = 2 × rank)"));
    m_alpha->setSpecialValueText(tr("2 × rank"));
    m_dropout = dspin(0, 0.9, 0, 2, tr("lora_dropout"));
    m_target = new QLineEdit("all");
    m_target->setToolTip(tr("lora_target: all, or a comma list such as query_key_value"));
    m_lr = new QLineEdit("5e-5");
    m_lr->setToolTip(tr("learning_rate (AdamW)"));
    m_epochs = dspin(0.1, 1000, 3.0, 1, tr("num_train_epochs"));
    m_batch = spin(1, 1024, 2, tr("per_device_train_batch_size"));
    m_accum = spin(1, 1024, 8, tr("gradient_accumulation_steps"));
    m_scheduler = combo({"cosine", "linear", "constant", "constant_with_warmup", "cosine_with_restarts"},
                        tr("lr_scheduler_type"));
    m_warmup = dspin(0, 0.5, 0, 3, tr("warmup_ratio"));
    m_precision = combo({"fp32", "bf16", "fp16"}, tr("compute type: bf16 on recent GPUs; fp16 needs CUDA; fp32 on CPU"));
    m_logging = spin(1, 100000, 5, tr("logging_steps: a loss point every N steps"));
    m_save = spin(1, 1000000, 100, tr("save_steps: a checkpoint every N steps"));
    m_output = new QLineEdit;
    m_output->setToolTip(tr("output_dir: checkpoints, the adapter, logs and the loss plot"));

    auto* model = new QGroupBox(tr("Model and data"));
    auto* mf = new QFormLayout(model);
    mf->addRow(tr("Model folder"), folderField(m_modelDir, this));
    mf->addRow(tr("Template"), m_template);
    mf->addRow(tr("Device"), m_device);
    mf->addRow(tr("Dataset folder"), folderField(m_datasetDir, this));
    mf->addRow(tr("Dataset"), m_dataset);
    mf->addRow(tr("Cutoff length"), m_cutoff);
    mf->addRow(tr("Validation size"), m_valSize);
    auto* method = new QGroupBox(tr("Method"));
    auto* ff = new QFormLayout(method);
    ff->addRow(tr("Fine-tuning"), m_method);
    ff->addRow(tr("Quantization"), m_quant);
    ff->addRow(tr("LoRA rank"), m_rank);
    ff->addRow(tr("LoRA alpha"), m_alpha);
    ff->addRow(tr("LoRA dropout"), m_dropout);
    ff->addRow(tr("LoRA modules"), m_target);
    auto* optim = new QGroupBox(tr("Optimisation"));
    auto* of = new QFormLayout(optim);
    of->addRow(tr("Learning rate"), m_lr);
    of->addRow(tr("Epochs"), m_epochs);
    of->addRow(tr("Batch size"), m_batch);
    of->addRow(tr("Gradient accumulation"), m_accum);
    of->addRow(tr("LR schedule"), m_scheduler);
    of->addRow(tr("Warm-up ratio"), m_warmup);
    of->addRow(tr("Precision"), m_precision);
    of->addRow(tr("Log every"), m_logging);
    of->addRow(tr("Save every"), m_save);
    of->addRow(tr("Output folder"), m_output);

    m_preview = new QPushButton(tr("Preview command"));
    m_saveArgs = new QPushButton(tr("Save arguments…"));
    m_estimate = new QPushButton(tr("Estimate memory"));
    m_estimate->setToolTip(tr("Weights, optimizer state and activations for these settings, against the free memory of the device"));
    m_loadArgs = new QPushButton(tr("Load arguments…"));
    m_start = new QPushButton(tr("Start"));
    m_stopSave = new QPushButton(tr("Stop && save"));
    m_cancel = new QPushButton(tr("Cancel"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_preview);
    buttons->addWidget(m_saveArgs);
    buttons->addWidget(m_loadArgs);
    buttons->addWidget(m_estimate);
    buttons->addStretch(1);
    buttons->addWidget(m_start);
    buttons->addWidget(m_stopSave);
    buttons->addWidget(m_cancel);

    auto* formColumn = new QWidget;
    formColumn->setMinimumWidth(440);  // room for folder paths
    auto* fl = new QVBoxLayout(formColumn);
    fl->addWidget(model);
    fl->addWidget(method);
    fl->addWidget(optim);
    fl->addStretch(1);

    // --- progress, chart, log ---
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status = new QLabel(tr("Not started"));
    m_estimateLabel = new QLabel;
    m_estimateLabel->setWordWrap(true);
    m_chart = new QChart;
    m_chart->setTitle(tr("Loss"));
    m_loss = new QLineSeries;
    m_loss->setName(tr("training loss"));
    m_smooth = new QLineSeries;
    m_smooth->setName(tr("smoothed"));
    m_eval = new QLineSeries;
    m_eval->setName(tr("eval loss"));
    m_lrSeries = new QLineSeries;
    m_lrSeries->setName(tr("learning rate (right axis)"));
    m_lrAxis = new QValueAxis;
    m_lrAxis->setLabelFormat("%.1e");
    m_x = new QValueAxis;
    m_x->setTitleText(tr("step"));
    m_x->setLabelFormat("%d");
    m_y = new QValueAxis;
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    for (auto* s : {m_loss, m_smooth, m_eval}) {
        m_chart->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
    }
    m_chart->addAxis(m_lrAxis, Qt::AlignRight);
    m_chart->addSeries(m_lrSeries);
    m_lrSeries->attachAxis(m_x);
    m_lrSeries->attachAxis(m_lrAxis);
    m_lrSeries->setPen(QPen(QColor(150, 150, 150), 1, Qt::DashLine));
    auto* chartView = new QChartView(m_chart);
    chartView->setRenderHint(QPainter::Antialiasing);
    chartView->setMinimumHeight(260);
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->addWidget(m_progress);
    rl->addWidget(m_status);
    rl->addWidget(m_estimateLabel);
    rl->addWidget(chartView, 3);
    rl->addWidget(m_log, 2);

    auto* split = new QSplitter;
    split->addWidget(formColumn);
    split->addWidget(right);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split, 1);
    layout->addLayout(buttons);

    connect(m_datasetDir, &QLineEdit::editingFinished, this, &TrainPage::refreshDatasets);
    connect(m_preview, &QPushButton::clicked, this, [this] {
        auto yaml = previewYaml();
        if (!yaml.isEmpty()) log(tr("tunebench-cli train config.yaml, where config.yaml is:\n") + yaml);
    });
    connect(m_start, &QPushButton::clicked, this, &TrainPage::start);
    connect(m_estimate, &QPushButton::clicked, this, [this] { estimate(); });
    connect(m_saveArgs, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getSaveFileName(this, tr("Save arguments"), m_output->text() + ".yaml", tr("YAML (*.yaml *.yml)"));
        if (!f.isEmpty()) saveArguments(f);
    });
    connect(m_loadArgs, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("Load arguments"), QString(), tr("YAML (*.yaml *.yml)"));
        if (!f.isEmpty()) loadArguments(f);
    });
    connect(m_stopSave, &QPushButton::clicked, this, [this] {
        m_engine->requestTrainStop(false);
        log(tr("Stopping after this step; a checkpoint and the adapter will be saved…"));
    });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_engine->requestTrainStop(true);
        log(tr("Cancelling; earlier checkpoints stay as they are."));
    });
    auto* worker = m_engine->worker();
    connect(worker, &EngineWorker::trainProgress, this, &TrainPage::onProgress);
    connect(worker, &EngineWorker::trainFinished, this, [this](const QString& summary, bool stopped) {
        if (!m_running) return;
        setRunning(false);
        m_status->setText(stopped ? tr("Stopped and saved: %1").arg(summary) : tr("Finished: %1").arg(summary));
        log(m_status->text());
        Q_EMIT trainingFinished(true, summary);
    });
    connect(worker, &EngineWorker::failed, this, [this](const QString& message, const QString& hint) {
        if (!m_running) return;  // a Chat error is the Chat tab's business
        setRunning(false);
        m_status->setText(tr("Stopped: %1").arg(message));
        log(tr("Error: %1").arg(message) + (hint.isEmpty() ? QString() : tr("\nHint: %1").arg(hint)));
        Q_EMIT trainingFinished(false, message);
    });
    setRunning(false);
}

void TrainPage::setModelDir(const QString& dir) { m_modelDir->setText(dir); }

void TrainPage::setDatasetDir(const QString& dir) {
    m_datasetDir->setText(dir);
    refreshDatasets();
}

void TrainPage::refreshDatasets() {
    const QString current = m_dataset->currentText();
    m_dataset->clear();
    try {
        for (const auto& [name, attr] : data::read_dataset_info(m_datasetDir->text().toStdString())) {
            if (!attr.file_name.empty()) m_dataset->addItem(QString::fromStdString(name));
        }
    } catch (const tb::Error& e) {
        log(tr("Datasets: %1").arg(QString::fromStdString(e.what())));
    }
    if (!current.isEmpty()) m_dataset->setCurrentText(current);
}

void TrainPage::useDemo(const QString& demoDir) {
    setModelDir(demoDir + "/model");
    setDatasetDir(demoDir + "/data");
    m_dataset->setCurrentText("tunebench_demo");
    m_template->setCurrentText("chatglm3");
    m_cutoff->setValue(256);
    m_lr->setText("1e-2");
    m_epochs->setValue(30);
    m_batch->setValue(4);
    m_accum->setValue(1);
    m_warmup->setValue(0.05);
    m_logging->setValue(10);
    m_output->setText(demoDir + "/lora-gui");
}

QVariantMap TrainPage::arguments() const {
    QVariantMap a{{"stage", "sft"},
                  {"model_name_or_path", m_modelDir->text()},
                  {"device", m_device->currentText()},
                  {"dataset_dir", m_datasetDir->text()},
                  {"dataset", m_dataset->currentText()},
                  {"cutoff_len", m_cutoff->value()},
                  {"finetuning_type", m_method->currentText()},
                  {"lora_rank", m_rank->value()},
                  {"lora_dropout", m_dropout->value()},
                  {"lora_target", m_target->text()},
                  {"learning_rate", m_lr->text()},
                  {"num_train_epochs", m_epochs->value()},
                  {"per_device_train_batch_size", m_batch->value()},
                  {"gradient_accumulation_steps", m_accum->value()},
                  {"lr_scheduler_type", m_scheduler->currentText()},
                  {"warmup_ratio", m_warmup->value()},
                  {"logging_steps", m_logging->value()},
                  {"save_steps", m_save->value()},
                  {"output_dir", m_output->text()},
                  {"plot_loss", "true"},
                  {"overwrite_output_dir", "true"}};
    if (m_template->currentIndex() > 0) a["template"] = m_template->currentText();
    if (m_alpha->value() > 0) a["lora_alpha"] = m_alpha->value();
    if (m_quant->currentIndex() > 0) a["quantization_bit"] = m_quant->currentText();
    if (m_valSize->value() > 0) {
        a["val_size"] = m_valSize->value();
        a["eval_steps"] = m_logging->value();
    }
    if (m_precision->currentText() != "fp32") a[m_precision->currentText()] = "true";
    return a;
}

QString TrainPage::previewYaml() const {
    const ArgMap map = toArgMap(arguments());
    try {
        return QString::fromStdString(TrainingArgs::from_map(map).to_yaml());
    } catch (const tb::Error& e) {
        const_cast<TrainPage*>(this)->log(tr("Error: %1\nHint: %2").arg(QString::fromStdString(e.what()),
                                                                         QString::fromStdString(e.hint())));
        return {};
    }
}

bool TrainPage::saveArguments(const QString& path) {
    const auto yaml = previewYaml();
    if (yaml.isEmpty()) return false;
    try {
        io::write_text_atomically(path.toStdString(), yaml.toStdString());
    } catch (const tb::Error& e) {
        log(tr("Error: %1").arg(QString::fromStdString(e.what())));
        return false;
    }
    log(tr("Arguments saved to %1 (train them with: tunebench-cli train %1)").arg(path));
    return true;
}

bool TrainPage::loadArguments(const QString& path) {
    ArgMap a;
    try {
        a = read_yaml_args(path.toStdString());
        TrainingArgs::from_map(a);  // same validation as the CLI
    } catch (const tb::Error& e) {
        log(tr("Error: %1\nHint: %2").arg(QString::fromStdString(e.what()), QString::fromStdString(e.hint())));
        return false;
    }
    auto text = [&](const char* k) { return a.count(k) ? QString::fromStdString(a[k]) : QString(); };
    auto setText = [&](QLineEdit* e, const char* k) { if (a.count(k)) e->setText(text(k)); };
    auto setCombo = [&](QComboBox* c, const char* k) { if (a.count(k)) c->setCurrentText(text(k)); };
    auto setInt = [&](QSpinBox* s, const char* k) { if (a.count(k)) s->setValue(text(k).toInt()); };
    auto setDouble = [&](QDoubleSpinBox* s, const char* k) { if (a.count(k)) s->setValue(text(k).toDouble()); };
    setText(m_modelDir, "model_name_or_path");
    if (a.count("dataset_dir")) setDatasetDir(text("dataset_dir"));
    setCombo(m_dataset, "dataset");
    if (a.count("template")) m_template->setCurrentText(text("template"));
    setCombo(m_device, "device");
    setInt(m_cutoff, "cutoff_len");
    setDouble(m_valSize, "val_size");
    setCombo(m_method, "finetuning_type");
    if (a.count("quantization_bit")) m_quant->setCurrentText(text("quantization_bit") == "0" ? tr("none") : text("quantization_bit"));
    setInt(m_rank, "lora_rank");
    setInt(m_alpha, "lora_alpha");
    setDouble(m_dropout, "lora_dropout");
    setText(m_target, "lora_target");
    setText(m_lr, "learning_rate");
    setDouble(m_epochs, "num_train_epochs");
    setInt(m_batch, "per_device_train_batch_size");
    setInt(m_accum, "gradient_accumulation_steps");
    setCombo(m_scheduler, "lr_scheduler_type");
    setDouble(m_warmup, "warmup_ratio");
    m_precision->setCurrentText(text("bf16") == "true" ? "bf16" : text("fp16") == "true" ? "fp16" : "fp32");
    setInt(m_logging, "logging_steps");
    setInt(m_save, "save_steps");
    setText(m_output, "output_dir");
    log(tr("Arguments loaded from %1").arg(path));
    return true;
}

QString TrainPage::estimate() {
    const ArgMap map = toArgMap(arguments());
    QString text;
    try {
        const auto e = estimate_training_memory(TrainingArgs::from_map(map));
        const double gib = 1024.0 * 1024 * 1024;
        text = tr("Memory ≈ %1 GiB on %2 (weights %3, optimizer %4, activations %5)")
                   .arg(e.total_bytes / gib, 0, 'f', 2)
                   .arg(QString::fromStdString(e.device))
                   .arg(e.weight_bytes / gib, 0, 'f', 2)
                   .arg(e.optimizer_bytes / gib, 0, 'f', 2)
                   .arg(e.activation_bytes / gib, 0, 'f', 2);
        if (e.available_bytes > 0) {
            text += e.fits ? tr(" — fits in the %1 GiB free.").arg(e.available_bytes / gib, 0, 'f', 1)
                           : tr(" — does NOT fit in the %1 GiB free: %2.")
                                 .arg(e.available_bytes / gib, 0, 'f', 1)
                                 .arg(QString::fromStdString(e.advice));
        }
        text += tr(" The ETA appears after the first steps.");
    } catch (const tb::Error& e) {
        text = tr("No estimate: %1").arg(QString::fromStdString(e.what()));
    }
    m_estimateLabel->setText(text);
    return text;
}

void TrainPage::start() {
    if (m_running || previewYaml().isEmpty()) return;
    m_loss->clear();
    m_smooth->clear();
    m_eval->clear();
    m_lrSeries->clear();
    m_yMax = 0;
    m_lrMax = 0;
    setRunning(true);
    estimate();
    m_status->setText(tr("Starting…"));
    log(tr("Training %1 on %2 → %3").arg(m_modelDir->text(), m_dataset->currentText(), m_output->text()));
    m_engine->requestTrain(arguments());
}

void TrainPage::addLossPoint(double step, double loss) {
    // LLaMA-Factory's smoothing weight grows with the number of points (extras/ploting.py)
    const double n = m_loss->count() + 1;
    const double w = 1.8 * (1.0 / (1.0 + std::exp(-0.05 * n)) - 0.5);
    m_ema = m_loss->count() == 0 ? loss : w * m_ema + (1 - w) * loss;
    m_loss->append(step, loss);
    m_smooth->append(step, m_ema);
}

void TrainPage::onProgress(const QVariantMap& p) {
    if (!m_running) return;
    const auto phase = p["phase"].toString();
    const qint64 step = p["step"].toLongLong(), total = p["total"].toLongLong();
    if (!p["message"].toString().isEmpty()) log(p["message"].toString());
    if (total > 0) {
        m_progress->setRange(0, static_cast<int>(total));
        m_progress->setValue(static_cast<int>(step));
    }
    if (phase == "training") {
        m_status->setText(tr("Step %1 / %2 · epoch %3 · %4 tokens/s · %5 elapsed, %6 left · %7 MiB")
                              .arg(step)
                              .arg(total)
                              .arg(p["epoch"].toDouble(), 0, 'f', 2)
                              .arg(p["tokens_per_s"].toDouble(), 0, 'f', 0)
                              .arg(duration(p["elapsed_s"].toDouble()), duration(p["eta_s"].toDouble()))
                              .arg(p["memory_bytes"].toLongLong() / 1048576));
    }
    if (!p["is_log"].toBool()) return;
    const double loss = p["loss"].toDouble(), eval = p["eval_loss"].toDouble();
    if (loss >= 0) {
        addLossPoint(step, loss);
        m_lrSeries->append(step, p["lr"].toDouble());
        m_lrMax = std::max(m_lrMax, p["lr"].toDouble());
        if (m_lrMax > 0) m_lrAxis->setRange(0, m_lrMax * 1.05);
        log(tr("step %1: loss %2, lr %3").arg(step).arg(loss, 0, 'f', 4).arg(p["lr"].toDouble(), 0, 'g', 3));
    }
    if (eval >= 0) {
        m_eval->append(step, eval);
        log(tr("step %1: eval loss %2").arg(step).arg(eval, 0, 'f', 4));
    }
    m_yMax = std::max({m_yMax, loss, eval});
    m_x->setRange(0, std::max<qint64>(total, 1));
    m_y->setRange(0, m_yMax * 1.05);
}

void TrainPage::setRunning(bool running) {
    m_running = running;
    m_start->setEnabled(!running);
    m_preview->setEnabled(!running);
    m_stopSave->setEnabled(running);
    m_cancel->setEnabled(running);
}

void TrainPage::log(const QString& line) { m_log->appendPlainText(line); }

int TrainPage::lossPoints() const { return m_loss->count(); }
int TrainPage::evalPoints() const { return m_eval->count(); }
QString TrainPage::logText() const { return m_log->toPlainText(); }

}  // namespace tb::ui
