// The Train tab. Arguments go to the engine thread as LLaMA-Factory keys; the engine validates
// them (the same code as `tunebench-cli train`), so the GUI shows the same errors and hints.
#include "train_page.h"
#include "message_label.h"
#include "error_text.h"

#include <QChartView>
#include <QCheckBox>
#include <QScrollArea>
#include <QTabWidget>
#include <QDateTime>
#include <QFileInfo>
#include <QComboBox>
#include <QPen>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QSplitter>
#include <QValueAxis>
#include <QVBoxLayout>
#include <cmath>

#include "core/error.h"
#include "io/atomic_file.h"
#include "dataset_list.h"
#include "arg_map.h"
#include "engine_controller.h"
#include "folder_field.h"
#include "model_bar.h"
#include "ui_texts.h"
#include "train/memory_estimate.h"
#include "train/training_args.h"

namespace tb::ui {
namespace {

QString duration(double s) {
    if (s < 60) return QString("%1 s").arg(s, 0, 'f', s < 10 ? 1 : 0);
    const auto t = static_cast<qint64>(s);
    return QString("%1:%2:%3").arg(t / 3600).arg(t / 60 % 60, 2, 10, QChar('0')).arg(t % 60, 2, 10, QChar('0'));
}


QSpinBox* spin(int lo, int hi, int value) {
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(value);
    return s;
}

QDoubleSpinBox* dspin(double lo, double hi, double value, int decimals) {
    auto* s = new QDoubleSpinBox;
    s->setRange(lo, hi);
    s->setDecimals(decimals);
    s->setValue(value);
    return s;
}

QComboBox* combo(const QStringList& items) {
    auto* c = new QComboBox;
    c->addItems(items);
    return c;
}

QCheckBox* check(bool on) {
    auto* c = new QCheckBox;
    c->setChecked(on);
    return c;
}

QLineEdit* line(const QString& text) { return new QLineEdit(text); }

// A positive finite number as users type it (5e-5, 0.0001, 1e-8): anything else cannot be typed.
QLineEdit* numberLine(const QString& text) {
    auto* e = new QLineEdit(text);
    e->setValidator(new QRegularExpressionValidator(QRegularExpression(R"(\d{0,12}(\.\d{0,12})?([eE][+-]?\d{0,3})?)"), e));
    return e;
}

QString valueOf(QWidget* w) {
    if (auto* s = qobject_cast<QSpinBox*>(w)) return QString::number(s->value());
    if (auto* s = qobject_cast<QDoubleSpinBox*>(w)) return QString::number(s->value());
    if (auto* e = qobject_cast<QLineEdit*>(w)) return e->text().trimmed();
    if (auto* c = qobject_cast<QComboBox*>(w)) return c->currentText();
    if (auto* c = qobject_cast<QCheckBox*>(w)) return c->isChecked() ? "true" : "false";
    return {};
}

void setValueOf(QWidget* w, const QString& v) {
    if (auto* s = qobject_cast<QSpinBox*>(w)) s->setValue(v.toInt());
    if (auto* s = qobject_cast<QDoubleSpinBox*>(w)) s->setValue(v.toDouble());
    if (auto* e = qobject_cast<QLineEdit*>(w)) e->setText(v);
    if (auto* c = qobject_cast<QComboBox*>(w)) c->setCurrentText(v);
    if (auto* c = qobject_cast<QCheckBox*>(w)) c->setChecked(v == "true");
}

}  // namespace

template <class W>
W* TrainPage::field(const QString& key, W* widget, const char* tip) {
    m_fields.append({key, widget});
    m_texts->bind(tip, [widget, key](const QString& t) { widget->setToolTip(key + ": " + t); });
    return widget;
}

QString TrainPage::namingTheControl(const QString& message) const {
    // the YAML key in an engine message, said as the form says it: 'learning_rate' → “Learning rate”
    for (const auto& [key, widget] : m_fields) {
        if (!QRegularExpression("\\b" + QRegularExpression::escape(key) + "\\b").match(message).hasMatch()) continue;
        // the widget, or the row it sits in (a folder field wraps its line edit)
        for (QWidget* w = widget; w && w->parentWidget(); w = w->parentWidget()) {
            auto* form = qobject_cast<QFormLayout*>(w->parentWidget()->layout());
            auto* label = form ? qobject_cast<QLabel*>(form->labelForField(w)) : nullptr;
            if (label && !label->text().isEmpty()) return message + tr(" (the field “%1”)").arg(label->text());
        }
    }
    return message;
}

QWidget* TrainPage::fieldWidget(const QString& key) const {
    for (const auto& [k, w] : m_fields)
        if (k == key) return w;
    return nullptr;
}

QDoubleSpinBox* TrainPage::epochsBox() const { return qobject_cast<QDoubleSpinBox*>(fieldWidget("num_train_epochs")); }

TrainPage::TrainPage(EngineController* engine, ModelBar* bar, QWidget* parent)
    : QWidget(parent), m_engine(engine), m_bar(bar), m_texts(new UiTexts(this)) {
    // --- the form: one widget per training key, LlamaBoard's defaults (engine defaults otherwise) ---
    const TrainingArgs d;
    auto* data = new QWidget;
    auto* df = new QFormLayout(data);
    auto row = [this](QFormLayout* f, const char* label, QWidget* w) { f->addRow(m_texts->label(label), w); };
    m_datasetDir = field("dataset_dir", line(QString()), QT_TR_NOOP("the folder with dataset_info.json"));
    m_dataset = field("dataset", combo({}), QT_TR_NOOP("datasets registered in dataset_info.json (a comma list mixes them)"));
    m_dataset->setEditable(true);
    row(df, QT_TR_NOOP("Dataset folder"), folderField(m_datasetDir, this));
    row(df, QT_TR_NOOP("Dataset"), m_dataset);
    auto* evalSet = field("eval_dataset", line(QString()), QT_TR_NOOP("optional datasets for the eval loss instead of a val_size split"));
    row(df, QT_TR_NOOP("Eval dataset"), evalSet);
    row(df, QT_TR_NOOP("Cutoff length"), field("cutoff_len", spin(16, 131072, 1024), QT_TR_NOOP("longest tokenized example; longer ones are truncated")));
    row(df, QT_TR_NOOP("Max samples"), field("max_samples", spin(0, 100000000, 100000), QT_TR_NOOP("use at most this many examples per dataset (0 = all)")));
    row(df, QT_TR_NOOP("Validation size"), field("val_size", dspin(0, 0.5, 0, 3), QT_TR_NOOP("fraction held out for the eval loss (0 = none)")));
    row(df, QT_TR_NOOP("Packing"), field("packing", check(d.packing), QT_TR_NOOP("pack several short examples into one cutoff_len sequence")));
    row(df, QT_TR_NOOP("Neat packing"), field("neat_packing", check(d.neat_packing), QT_TR_NOOP("packing in which each example attends only to itself (turns packing on)")));
    row(df, QT_TR_NOOP("Train on prompt"), field("train_on_prompt", check(d.train_on_prompt), QT_TR_NOOP("also learn the prompt tokens, not only the responses")));
    row(df, QT_TR_NOOP("Mask history"), field("mask_history", check(d.mask_history), QT_TR_NOOP("learn only the last turn of a multi-turn conversation")));
    row(df, QT_TR_NOOP("Enable thinking"), field("enable_thinking", check(d.enable_thinking), QT_TR_NOOP("reasoning templates (qwen3): a reply without <think>…</think> learns an empty thought; off puts it in the prompt instead")));
    row(df, QT_TR_NOOP("Group by length"), field("group_by_length", check(d.group_by_length), QT_TR_NOOP("batch examples of similar length together (less padding)")));

    auto* method = new QWidget;
    auto* mf = new QFormLayout(method);
    row(mf, QT_TR_NOOP("LoRA rank"), field("lora_rank", spin(1, 1024, static_cast<int>(d.lora_rank)), QT_TR_NOOP("rank r of the A and B matrices")));
    m_alpha = field("lora_alpha", spin(0, 4096, 0), QT_TR_NOOP("scale alpha/r of the LoRA update (2 × rank when 0)"));
    m_texts->bind(QT_TR_NOOP("2 × rank"), [this](const QString& t) { m_alpha->setSpecialValueText(t); });
    row(mf, QT_TR_NOOP("LoRA alpha"), m_alpha);
    row(mf, QT_TR_NOOP("LoRA dropout"), field("lora_dropout", dspin(0, 0.9, d.lora_dropout, 2), QT_TR_NOOP("dropout on the LoRA input while training")));
    row(mf, QT_TR_NOOP("LoRA modules"), field("lora_target", line(QString::fromStdString(d.lora_target)), QT_TR_NOOP("all, or a comma list such as query_key_value")));
    row(mf, QT_TR_NOOP("rsLoRA"), field("use_rslora", check(d.use_rslora), QT_TR_NOOP("rank-stabilised scale alpha/sqrt(r)")));
    row(mf, QT_TR_NOOP("AdaLoRA: initial rank"), field("init_r", spin(1, 1024, static_cast<int>(d.init_r)), QT_TR_NOOP("AdaLoRA starts every matrix at this rank (init_r)")));
    row(mf, QT_TR_NOOP("AdaLoRA: target rank"), field("target_r", spin(0, 1024, static_cast<int>(d.target_r)), QT_TR_NOOP("the average rank AdaLoRA prunes to, spending more where it matters (target_r)")));
    row(mf, QT_TR_NOOP("AdaLoRA: warm-up steps"), field("tinit", spin(0, 100000000, static_cast<int>(d.tinit)), QT_TR_NOOP("steps before pruning starts (tinit)")));
    row(mf, QT_TR_NOOP("AdaLoRA: final steps"), field("tfinal", spin(0, 100000000, static_cast<int>(d.tfinal)), QT_TR_NOOP("last steps trained with the final ranks fixed (tfinal)")));
    row(mf, QT_TR_NOOP("AdaLoRA: orthogonality"), field("orth_reg_weight", dspin(0, 100, d.orth_reg_weight, 2), QT_TR_NOOP("weight of the regulariser keeping A and B orthogonal (orth_reg_weight)")));
    row(mf, QT_TR_NOOP("Freeze: trainable layers"), field("freeze_trainable_layers", spin(-1000, 1000, static_cast<int>(d.freeze_trainable_layers)), QT_TR_NOOP("freeze fine-tuning trains the last N layers (negative: the first N)")));
    row(mf, QT_TR_NOOP("Double quantization"), field("double_quantization", check(d.double_quantization), QT_TR_NOOP("QLoRA 4-bit: quantize the NF4 scales too (saves ~0.4 bit per weight)")));

    auto* optim = new QWidget;
    auto* of = new QFormLayout(optim);
    row(of, QT_TR_NOOP("Learning rate"), field("learning_rate", numberLine("5e-5"), QT_TR_NOOP("AdamW's peak learning rate")));
    row(of, QT_TR_NOOP("Epochs"), field("num_train_epochs", dspin(0.1, 1000, 3.0, 1), QT_TR_NOOP("passes over the training set")));
    auto* maxSteps = field("max_steps", spin(-1, 100000000, -1), QT_TR_NOOP("stop after this many optimizer steps (overrides epochs; -1 = off)"));
    row(of, QT_TR_NOOP("Max steps"), maxSteps);
    row(of, QT_TR_NOOP("Batch size"), field("per_device_train_batch_size", spin(1, 1024, 2), QT_TR_NOOP("examples per micro-batch")));
    row(of, QT_TR_NOOP("Gradient accumulation"), field("gradient_accumulation_steps", spin(1, 1024, 8), QT_TR_NOOP("micro-batches per optimizer step")));
    row(of, QT_TR_NOOP("Eval batch size"), field("per_device_eval_batch_size", spin(1, 1024, static_cast<int>(d.per_device_eval_batch_size)), QT_TR_NOOP("examples per batch for the eval loss")));
    row(of, QT_TR_NOOP("LR schedule"), field("lr_scheduler_type", combo({"cosine", "linear", "constant", "constant_with_warmup", "cosine_with_restarts"}), QT_TR_NOOP("how the learning rate changes over the run")));
    row(of, QT_TR_NOOP("Warm-up ratio"), field("warmup_ratio", dspin(0, 0.5, d.warmup_ratio, 3), QT_TR_NOOP("fraction of the steps spent warming up")));
    row(of, QT_TR_NOOP("Warm-up steps"), field("warmup_steps", spin(0, 1000000, static_cast<int>(d.warmup_steps)), QT_TR_NOOP("warm-up steps (overrides the ratio when > 0)")));
    row(of, QT_TR_NOOP("Weight decay"), field("weight_decay", dspin(0, 1, d.weight_decay, 4), QT_TR_NOOP("AdamW weight decay")));
    row(of, QT_TR_NOOP("Max gradient norm"), field("max_grad_norm", dspin(0, 1000, d.max_grad_norm, 2), QT_TR_NOOP("clip the gradient norm (0 = no clipping)")));
    row(of, QT_TR_NOOP("Adam β1"), field("adam_beta1", dspin(0, 0.9999, d.adam_beta1, 4), QT_TR_NOOP("AdamW beta1")));
    row(of, QT_TR_NOOP("Adam β2"), field("adam_beta2", dspin(0, 0.99999, d.adam_beta2, 5), QT_TR_NOOP("AdamW beta2")));
    row(of, QT_TR_NOOP("Adam ε"), field("adam_epsilon", numberLine("1e-8"), QT_TR_NOOP("AdamW epsilon")));
    m_precision = combo({"fp32", "bf16", "fp16", "pure_bf16"});
    m_texts->set(m_precision, "toolTip", QT_TR_NOOP("compute type: bf16 on recent GPUs; fp16 needs CUDA; fp32 on CPU; pure_bf16 keeps even the trainable weights in bf16"));
    row(of, QT_TR_NOOP("Precision"), m_precision);
    auto* checkpointing = field("gradient_checkpointing", check(d.gradient_checkpointing), QT_TR_NOOP("recompute activations in backward: much less memory, ~30% slower"));
    row(of, QT_TR_NOOP("Gradient checkpointing"), checkpointing);
    auto* scope = field("gradient_checkpointing_scope", combo({"layer", "mlp"}), QT_TR_NOOP("layer: recompute whole layers (least memory); mlp: only the MLPs (faster, keeps the attention activations)"));
    row(of, QT_TR_NOOP("Checkpointing scope"), scope);
    connect(checkpointing, &QCheckBox::toggled, scope, &QWidget::setEnabled);
    row(of, QT_TR_NOOP("NEFTune noise"), field("neftune_noise_alpha", dspin(0, 100, d.neftune_noise_alpha, 1), QT_TR_NOOP("noise added to the embeddings while training (0 = off; 5 is common)")));
    row(of, QT_TR_NOOP("Seed"), field("seed", spin(0, 2147483647, static_cast<int>(d.seed)), QT_TR_NOOP("data order, LoRA initialisation and dropout")));

    auto* output = new QWidget;
    auto* uf = new QFormLayout(output);
    m_output = field("output_dir", line(QString()), QT_TR_NOOP("checkpoints, the adapter, logs and the loss plot"));
    row(uf, QT_TR_NOOP("Output folder"), folderField(m_output, this));
    connect(m_output, &QLineEdit::textEdited, this, [this] { m_autoOutput = false; });
    m_fromAdapter = new QCheckBox;
    m_texts->set(m_fromAdapter, "toolTip", QT_TR_NOOP("continue training the adapter chosen in the top bar; off: new LoRA weights"));
    row(uf, QT_TR_NOOP("Start from the adapter"), m_fromAdapter);
    auto showAdapter = [this] {
        const QString a = m_bar->adapterDir();
        m_fromAdapter->setEnabled(!a.isEmpty() && !m_running);
        if (a.isEmpty()) m_fromAdapter->setChecked(false);
        m_fromAdapter->setText(a.isEmpty() ? tr("(no adapter chosen in the top bar)") : a);
    };
    connect(m_bar, &ModelBar::adapterChanged, this, showAdapter);
    m_texts->onRetranslate(showAdapter);
    connect(m_bar, &ModelBar::modelChanged, this, [this] {
        if (m_autoOutput) chooseFreshOutputDir();
    });
    row(uf, QT_TR_NOOP("Overwrite it"), field("overwrite_output_dir", check(false), QT_TR_NOOP("start over in a folder that holds an earlier run (its checkpoints are deleted)")));
    row(uf, QT_TR_NOOP("Resume from"), field("resume_from_checkpoint", line(QString()), QT_TR_NOOP("a checkpoint-N folder, or true for the latest one in the output folder")));
    m_logging = field("logging_steps", spin(1, 100000, 5), QT_TR_NOOP("a loss point every N steps"));
    row(uf, QT_TR_NOOP("Log every"), m_logging);
    row(uf, QT_TR_NOOP("Save every"), field("save_steps", spin(1, 1000000, 100), QT_TR_NOOP("a checkpoint every N steps")));
    row(uf, QT_TR_NOOP("Keep checkpoints"), field("save_total_limit", spin(0, 1000, 0), QT_TR_NOOP("keep only the newest N checkpoints (0 = all)")));
    row(uf, QT_TR_NOOP("TensorBoard"), field("report_to", combo({"tensorboard", "none"}), QT_TR_NOOP("tensorboard: also write the loss, learning rate, gradient norm and eval loss as TensorBoard event files in the output folder's runs/ (tensorboard --logdir OUTPUT/runs)")));
    row(uf, QT_TR_NOOP("Eval every"), field("eval_steps", spin(0, 1000000, 0), QT_TR_NOOP("eval loss every N steps (0 = at every log step)")));
    row(uf, QT_TR_NOOP("Tokenized copy"), field("tokenized_path", line(QString()), QT_TR_NOOP("also write the encoded training rows (input_ids, labels) to this folder")));

    auto* groups = new QTabWidget;
    auto addGroup = [&](QWidget* page, const char* title) {
        auto* scroll = new QScrollArea;
        scroll->setWidget(page);
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        const int i = groups->addTab(scroll, QString());
        m_texts->bind(title, [groups, i](const QString& t) { groups->setTabText(i, t); });
    };
    addGroup(data, QT_TR_NOOP("Data"));
    addGroup(method, QT_TR_NOOP("Method"));
    addGroup(optim, QT_TR_NOOP("Optimisation"));
    addGroup(output, QT_TR_NOOP("Output"));

    m_preview = m_texts->button(QT_TR_NOOP("Preview command"));
    m_saveArgs = m_texts->button(QT_TR_NOOP("Save arguments…"));
    m_estimate = m_texts->button(QT_TR_NOOP("Estimate"));
    m_texts->set(m_estimate, "toolTip", QT_TR_NOOP("Memory (weights, optimizer state, activations) against the device's free memory, and the time the run will take"));
    m_loadArgs = m_texts->button(QT_TR_NOOP("Load arguments…"));
    m_start = m_texts->button(QT_TR_NOOP("Start"));
    m_stopSave = m_texts->button(QT_TR_NOOP("Stop && save"));
    m_cancel = m_texts->button(QT_TR_NOOP("Cancel"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_preview);
    buttons->addWidget(m_saveArgs);
    buttons->addWidget(m_loadArgs);
    buttons->addWidget(m_estimate);
    buttons->addStretch(1);
    buttons->addWidget(m_start);
    buttons->addWidget(m_stopSave);
    buttons->addWidget(m_cancel);

    auto* formColumn = groups;
    formColumn->setMinimumWidth(440);  // room for folder paths

    // --- progress, chart, log ---
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status = messageLabel();
    m_texts->set(m_status, "text", QT_TR_NOOP("Not started"));
    m_estimateLabel = messageLabel();
    m_estimateLabel->setWordWrap(true);
    m_chart = new QChart;
    m_texts->bind(QT_TR_NOOP("Loss"), [this](const QString& t) { m_chart->setTitle(t); });
    m_loss = new QLineSeries;
    m_smooth = new QLineSeries;
    m_eval = new QLineSeries;
    m_lrSeries = new QLineSeries;
    m_texts->bind(QT_TR_NOOP("training loss"), [this](const QString& t) { m_loss->setName(t); });
    m_texts->bind(QT_TR_NOOP("smoothed"), [this](const QString& t) { m_smooth->setName(t); });
    m_texts->bind(QT_TR_NOOP("eval loss"), [this](const QString& t) { m_eval->setName(t); });
    m_texts->bind(QT_TR_NOOP("learning rate (right axis)"), [this](const QString& t) { m_lrSeries->setName(t); });
    m_lrAxis = new QValueAxis;
    m_lrAxis->setLabelFormat("%.1e");
    m_x = new QValueAxis;
    m_texts->bind(QT_TR_NOOP("step"), [this](const QString& t) { m_x->setTitleText(t); });
    m_x->setLabelFormat("%d");
    m_x->setRange(0, 10);
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
    connect(worker, &EngineWorker::timeEstimated, this, [this](const QVariantMap& e) {
        const QString time = e.contains("error")
                                 ? tr("Time: no estimate: %1").arg(e["error"].toString())
                                 : tr("Time ≈ %1 for %2 steps over %3 examples (%4 tokens; %5 TFLOP/s measured on %6). "
                                      "The live ETA replaces it once steps are timed.")
                                       .arg(duration(e["seconds"].toDouble()))
                                       .arg(e["steps"].toLongLong())
                                       .arg(e["examples"].toLongLong())
                                       .arg(e["tokens"].toDouble(), 0, 'g', 3)
                                       .arg(e["tflops"].toDouble(), 0, 'g', 3)
                                       .arg(e["device"].toString());
        m_estimateLabel->setText(m_memoryText + "\n" + time);
    });
    connect(worker, &EngineWorker::trainProgress, this, &TrainPage::onProgress);
    connect(worker, &EngineWorker::trainFinished, this, [this](const QString& summary, bool stopped) {
        if (!m_running) return;
        setRunning(false);
        m_status->setText(stopped ? tr("Stopped and saved: %1").arg(summary) : tr("Finished: %1").arg(summary));
        log(m_status->text());
        Q_EMIT runFolderWritten(m_output->text());
        // the next Train starts fresh, in a new folder, unless the user asks otherwise
        m_fromAdapter->setChecked(false);
        if (m_autoOutput) chooseFreshOutputDir();
        Q_EMIT trainingFinished(true, summary);
    });
    connect(worker, &EngineWorker::failed, this, [this](EngineJob job, const QString& message, const QString& hint) {
        if (job != EngineJob::Train) return;  // another page's request
        if (!m_running) return;  // a Chat error is the Chat tab's business
        setRunning(false);
        m_status->setText(tr("Stopped: %1").arg(message));
        log(tr("Error: %1").arg(namingTheControl(message)) + (hint.isEmpty() ? QString() : tr("\nHint: %1").arg(hint)));
        Q_EMIT trainingFinished(false, message);
    });
    setRunning(false);
}

void TrainPage::setDatasetDir(const QString& dir) {
    m_datasetDir->setText(dir);
    refreshDatasets();
}

QString TrainPage::datasetDir() const { return m_datasetDir->text(); }
void TrainPage::setOutputDir(const QString& dir) {
    m_output->setText(dir);
    m_autoOutput = false;
}

QString TrainPage::outputDir() const { return m_output->text(); }

void TrainPage::chooseFreshOutputDir() {
    const QFileInfo model(m_bar->modelDir());
    if (m_bar->modelDir().isEmpty()) return;
    const QString base = model.absolutePath() + "/saves/" + model.fileName() + "/" + m_bar->finetuningType() + "/train_" +
                         QDateTime::currentDateTime().toString("yyyy-MM-dd-HH-mm-ss");
    QString dir = base;
    for (int n = 2; QFileInfo::exists(dir); ++n) dir = base + "-" + QString::number(n);  // two runs in one second
    m_output->setText(dir);
    m_autoOutput = true;
}

void TrainPage::refreshDatasets() {
    const QString current = m_dataset->currentText();
    m_dataset->clear();
    QString error;
    m_dataset->addItems(registeredDatasets(m_datasetDir->text(), &error));
    if (!error.isEmpty()) log(tr("Datasets: %1").arg(error));
    if (!current.isEmpty()) m_dataset->setCurrentText(current);
}

void TrainPage::useDemo(const QString& demoDir) {
    setDatasetDir(demoDir + "/data");
    m_dataset->setCurrentText("tunebench_demo");
    for (const auto& [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
             {"cutoff_len", "256"}, {"learning_rate", "1e-2"}, {"num_train_epochs", "30"},
             {"per_device_train_batch_size", "4"}, {"gradient_accumulation_steps", "1"}, {"warmup_ratio", "0.05"},
             {"logging_steps", "10"}, {"gradient_checkpointing", "false"}})
        setValueOf(fieldWidget(key), value);
    m_autoOutput = true;
    chooseFreshOutputDir();
}

QVariantMap TrainPage::arguments() const {
    QVariantMap a{{"stage", "sft"}, {"plot_loss", "true"}};
    for (const auto& [key, w] : m_fields) {
        const QString v = valueOf(w);
        if (!v.isEmpty()) a[key] = v;
    }
    if (m_alpha->value() == 0) a.remove("lora_alpha");
    if (a["eval_steps"].toString() == "0") a["eval_steps"] = m_logging->value();
    if (m_precision->currentText() != "fp32") a[m_precision->currentText()] = "true";
    if (m_precision->currentText() == "pure_bf16") a["bf16"] = "true";
    // the top bar's model settings
    a["model_name_or_path"] = m_bar->modelDir();
    a["finetuning_type"] = m_bar->finetuningType();
    a["device"] = m_bar->device();
    if (m_bar->processes() > 1) a["nproc_per_node"] = m_bar->processes();
    a["flash_attn"] = m_bar->attention();
    if (m_fromAdapter->isChecked() && !m_bar->adapterDir().isEmpty()) a["adapter_name_or_path"] = m_bar->adapterDir();
    if (!m_bar->templateName().isEmpty()) a["template"] = m_bar->templateName();
    if (!m_bar->quantizationBit().isEmpty()) a["quantization_bit"] = m_bar->quantizationBit();
    return a;
}

QString TrainPage::previewYaml() const {
    const ArgMap map = toArgMap(arguments());
    try {
        return QString::fromStdString(TrainingArgs::from_map(map).to_yaml());
    } catch (const std::exception& e) {
        const auto t = errorText(e);
        const_cast<TrainPage*>(this)->log(tr("Error: %1\nHint: %2").arg(namingTheControl(t.message), t.hint));
        return {};
    }
}

bool TrainPage::saveArguments(const QString& path) {
    const auto yaml = previewYaml();
    if (yaml.isEmpty()) return false;
    try {
        io::write_text_atomically(path.toStdString(), yaml.toStdString());
    } catch (const std::exception& e) {
        log(tr("Error: %1").arg(errorText(e).message));
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
    } catch (const std::exception& e) {
        const auto t = errorText(e);
        log(tr("Error: %1\nHint: %2").arg(namingTheControl(t.message), t.hint));
        return false;
    }
    auto text = [&](const std::string& k) { return a.count(k) ? QString::fromStdString(a[k]) : QString(); };
    if (a.count("dataset_dir")) setDatasetDir(text("dataset_dir"));
    for (const auto& [key, w] : m_fields) {
        if (key == "dataset_dir") continue;
        if (a.count(key.toStdString())) setValueOf(w, text(key.toStdString()));
    }
    if (!a.count("lora_alpha")) m_alpha->setValue(0);
    m_precision->setCurrentText(text("pure_bf16") == "true" ? "pure_bf16"
                                : text("bf16") == "true"    ? "bf16"
                                : text("fp16") == "true"    ? "fp16"
                                                            : "fp32");
    for (const char* key : {"model_name_or_path", "adapter_name_or_path", "template", "finetuning_type", "quantization_bit",
                            "flash_attn", "device", "nproc_per_node"})
        if (a.count(key)) m_bar->setArgument(key, text(key));
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
    } catch (const std::exception& e) {
        text = tr("No estimate: %1").arg(errorText(e).message);
    }
    m_memoryText = text;
    m_estimateLabel->setText(text + tr("\nTime: estimating (reading the dataset, measuring the device)…"));
    m_engine->requestTimeEstimate(arguments());
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
    log(tr("Training %1 on %2 → %3").arg(m_bar->modelDir(), m_dataset->currentText(), m_output->text()));
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
    m_fromAdapter->setEnabled(!running && !m_bar->adapterDir().isEmpty());
}

void TrainPage::log(const QString& line) { m_log->appendPlainText(line); }

int TrainPage::lossPoints() const { return m_loss->count(); }
int TrainPage::evalPoints() const { return m_eval->count(); }
QString TrainPage::logText() const { return m_log->toPlainText(); }
QString TrainPage::estimateText() const { return m_estimateLabel->text(); }

}  // namespace tb::ui
