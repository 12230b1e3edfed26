#include "evaluate_page.h"
#include "message_label.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include "dataset_list.h"
#include "engine_controller.h"
#include "folder_field.h"
#include "model_bar.h"
#include "ui_texts.h"

namespace tb::ui {

EvaluatePage::EvaluatePage(EngineController* engine, ModelBar* bar, QWidget* parent)
    : QWidget(parent), m_engine(engine), m_bar(bar), m_texts(new UiTexts(this)) {
    m_datasetDir = new QLineEdit;
    m_texts->set(m_datasetDir, "toolTip", QT_TR_NOOP("dataset_dir: the folder with dataset_info.json"));
    m_dataset = new QComboBox;
    m_dataset->setEditable(true);
    m_texts->set(m_dataset, "toolTip", QT_TR_NOOP("eval_dataset: each example's last reply is the reference; the model answers its prompt and history"));
    m_maxSamples = new QSpinBox;
    m_maxSamples->setRange(0, 100000000);
    m_maxSamples->setValue(100000);
    m_texts->set(m_maxSamples, "toolTip", QT_TR_NOOP("max_samples: at most this many examples (0 = all)"));
    m_maxNewTokens = new QSpinBox;
    m_maxNewTokens->setRange(1, 8192);
    m_maxNewTokens->setValue(512);
    m_batchSize = new QSpinBox;
    m_batchSize->setRange(1, 512);
    m_batchSize->setValue(8);
    m_texts->set(m_batchSize, "toolTip", QT_TR_NOOP("per_device_eval_batch_size: examples answered together (a new one joins as one finishes); more is faster until the GPU memory is full"));
    m_temperature = new QDoubleSpinBox;
    m_temperature->setRange(0, 2);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(0);
    m_texts->set(m_temperature, "toolTip", QT_TR_NOOP("0 = greedy decoding: the scores can be reproduced"));
    m_output = new QLineEdit;
    m_texts->set(m_output, "toolTip", QT_TR_NOOP("output_dir: generated_predictions.jsonl and predict_results.json; an earlier run there is resumed"));

    auto* box = new QGroupBox;
    m_texts->set(box, "title", QT_TR_NOOP("Predict over a dataset and score it"));
    auto* form = new QFormLayout(box);
    form->addRow(m_texts->label(QT_TR_NOOP("Dataset folder")), folderField(m_datasetDir, this));
    form->addRow(m_texts->label(QT_TR_NOOP("Dataset")), m_dataset);
    form->addRow(m_texts->label(QT_TR_NOOP("Max samples")), m_maxSamples);
    form->addRow(m_texts->label(QT_TR_NOOP("Max new tokens")), m_maxNewTokens);
    form->addRow(m_texts->label(QT_TR_NOOP("Batch size")), m_batchSize);
    form->addRow(m_texts->label(QT_TR_NOOP("Temperature")), m_temperature);
    form->addRow(m_texts->label(QT_TR_NOOP("Output folder")), folderField(m_output, this));

    m_start = m_texts->button(QT_TR_NOOP("Start"));
    m_stop = m_texts->button(QT_TR_NOOP("Stop"));
    auto* wizard = new QPushButton;
    m_texts->set(wizard, "text", QT_TR_NOOP("Batch-predict a CSV…"));
    m_texts->set(wizard, "toolTip", QT_TR_NOOP("The CSV wizard: every row of a CSV file gets a prediction column"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(wizard);
    buttons->addStretch(1);
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    m_progress = new QProgressBar;
    m_result = messageLabel();
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_result->setMinimumHeight(4 * m_result->fontMetrics().lineSpacing());  // the scores never squeezed out
    m_worst = new QTableWidget(0, 5);
    m_worst->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_worst->setWordWrap(true);
    m_worst->horizontalHeader()->setStretchLastSection(true);
    auto headers = [this] {
        m_worst->setHorizontalHeaderLabels({tr("ROUGE-L"), tr("BLEU-4"), tr("Prompt"), tr("Prediction"), tr("Reference")});
    };
    headers();
    m_texts->onRetranslate(headers);
    for (int c : {2, 3}) m_worst->setColumnWidth(c, 260);
    m_worst->verticalHeader()->setMaximumSectionSize(6 * m_worst->fontMetrics().lineSpacing());  // full text in the tooltip
    for (QWidget* w : std::initializer_list<QWidget*>{m_maxSamples, m_maxNewTokens, m_batchSize, m_temperature}) w->setMaximumWidth(220);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(box);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_result);
    layout->addWidget(m_texts->label(QT_TR_NOOP("Worst samples (lowest ROUGE-L first):")));
    layout->addWidget(m_worst, 1);

    connect(m_datasetDir, &QLineEdit::editingFinished, this, [this] { setDatasetDir(m_datasetDir->text()); });
    connect(m_start, &QPushButton::clicked, this, &EvaluatePage::start);
    connect(m_stop, &QPushButton::clicked, this, &EvaluatePage::stop);
    connect(wizard, &QPushButton::clicked, this, &EvaluatePage::csvWizardRequested);
    auto* w = m_engine->worker();
    connect(w, &EngineWorker::evalProgress, this, [this](qint64 done, qint64 total) {
        if (!m_running) return;
        m_progress->setRange(0, static_cast<int>(total));
        m_progress->setValue(static_cast<int>(done));
        m_result->setText(tr("Example %1 of %2 …").arg(done).arg(total));
    });
    connect(w, &EngineWorker::evalFinished, this, [this](const QVariantMap& report) {
        if (!m_running) return;
        setRunning(false);
        showReport(report);
        Q_EMIT evaluationFinished(!report["cancelled"].toBool());
    });
    connect(w, &EngineWorker::failed, this, [this](EngineJob job, const QString& message, const QString& hint) {
        if (job != EngineJob::Evaluate) return;  // another page's request
        if (!m_running) return;
        setRunning(false);
        m_result->setText(tr("Error: %1").arg(message) + (hint.isEmpty() ? QString() : tr("\nHint: %1").arg(hint)));
        Q_EMIT evaluationFinished(false);
    });
    setRunning(false);
}

void EvaluatePage::setDatasetDir(const QString& dir) {
    m_datasetDir->setText(dir);
    const QString current = m_dataset->currentText();
    m_dataset->clear();
    QString error;
    m_dataset->addItems(registeredDatasets(dir, &error));
    if (!error.isEmpty()) m_result->setText(tr("Datasets: %1").arg(error));
    if (!current.isEmpty()) m_dataset->setCurrentText(current);
}

void EvaluatePage::setDataset(const QString& name) { m_dataset->setCurrentText(name); }
void EvaluatePage::setOutputDir(const QString& dir) { m_output->setText(dir); }
void EvaluatePage::setMaxSamples(int n) { m_maxSamples->setValue(n); }
QString EvaluatePage::resultText() const { return m_result->text(); }

void EvaluatePage::start() {
    if (m_running) return;
    setRunning(true);
    m_worst->setRowCount(0);
    m_result->setText(tr("Loading %1 …").arg(m_bar->modelDir()));
    QVariantMap a = m_bar->inferenceArguments();
    a.insert({{"dataset_dir", m_datasetDir->text()},
              {"dataset", m_dataset->currentText()},
              {"max_samples", m_maxSamples->value()},
              {"max_new_tokens", m_maxNewTokens->value()},
              {"per_device_eval_batch_size", m_batchSize->value()},
              {"output_dir", m_output->text()}});
    if (m_temperature->value() > 0) {
        a["do_sample"] = "true";
        a["temperature"] = m_temperature->value();
    }
    m_engine->requestEvaluate(a);
}

void EvaluatePage::stop() {
    m_engine->requestStop();
    m_result->setText(tr("Stopping after the current step…"));
}

void EvaluatePage::showReport(const QVariantMap& r) {
    QString text = r["cancelled"].toBool() ? tr("Stopped after %1 examples; Start resumes from there.").arg(r["samples"].toLongLong())
                                           : tr("%1 examples predicted into %2/generated_predictions.jsonl.")
                                                 .arg(r["samples"].toLongLong())
                                                 .arg(r["output_dir"].toString());
    if (r["resumed_from"].toLongLong() > 0) text += tr(" (%1 were already there from an earlier run.)").arg(r["resumed_from"].toLongLong());
    if (!r["cancelled"].toBool()) {
        auto f2 = [&](const char* key) { return QString::number(r[key].toDouble(), 'f', 2); };
        if (r["by_words"].toBool())
            text += tr("\nBLEU-4 %1 · ROUGE-1 %2 · ROUGE-2 %3 · ROUGE-L %4 (0–100, as LLaMA-Factory scores: ROUGE over "
                       "jieba words, BLEU-4 over characters).")
                        .arg(f2("bleu_4"), f2("rouge_1"), f2("rouge_2"), f2("rouge_l"));
        else
            text += tr("\nBLEU-4 %1 (0–100). ROUGE over jieba words is unavailable: %2").arg(f2("bleu_4"), r["note"].toString());
        text += tr("\nBy characters (each CJK character one token): ROUGE-1 %1 · ROUGE-2 %2 · ROUGE-L %3.")
                    .arg(f2("rouge_1_characters"), f2("rouge_2_characters"), f2("rouge_l_characters"));
    }
    m_result->setText(text);
    const auto worst = r["worst"].toList();
    m_worst->setRowCount(static_cast<int>(worst.size()));
    for (int i = 0; i < worst.size(); ++i) {
        const auto w = worst[i].toMap();
        const QStringList cells{QString::number(w["rouge_l"].toDouble(), 'f', 1), QString::number(w["bleu_4"].toDouble(), 'f', 1),
                                w["prompt"].toString(), w["predict"].toString(), w["label"].toString()};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c].left(500));
            item->setToolTip(cells[c].left(4000));
            m_worst->setItem(i, c, item);
        }
    }
    m_worst->resizeRowsToContents();
}

void EvaluatePage::setRunning(bool running) {
    m_running = running;
    m_start->setEnabled(!running);
    m_stop->setEnabled(running);
}

}  // namespace tb::ui
