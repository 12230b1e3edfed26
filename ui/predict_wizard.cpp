#include "predict_wizard.h"
#include "message_label.h"
#include "error_text.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/error.h"
#include "data/csv.h"
#include "data/csv_convert.h"
#include "engine_controller.h"
#include "table_preview.h"
#include "tokenizer/chat_template.h"

namespace tb::ui {
namespace {

// A page whose completeness is a function (QWizardPage::isComplete is virtual).
class CheckedPage : public QWizardPage {
public:
    std::function<bool()> complete = [] { return true; };
    bool isComplete() const override { return complete(); }
    void changed() { Q_EMIT completeChanged(); }
};

QString eta(double s) {
    const auto t = static_cast<qint64>(s);
    return QString("%1:%2").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
}

}  // namespace

PredictWizard::PredictWizard(EngineController* engine, QWidget* parent)
    : QWizard(parent), m_engine(engine), m_table(std::make_unique<data::CsvTable>()) {
    setWindowTitle(tr("Batch prediction over a CSV"));
    setWizardStyle(QWizard::ClassicStyle);
    setPage(CsvPage, makeCsvPage());
    setPage(PromptPage, makePromptPage());
    setPage(ModelPage, makeModelPage());
    setPage(RunPage, makeRunPage());
    setPage(SummaryPage, makeSummaryPage());
    resize(900, 620);

    auto* worker = m_engine->worker();
    connect(worker, &EngineWorker::predictProgress, this, [this](qint64 done, qint64 total, double etaS, const QString& last) {
        if (!m_running) return;
        m_progress->setRange(0, static_cast<int>(total));
        m_progress->setValue(static_cast<int>(done));
        m_runStatus->setText(tr("Row %1 of %2 · %3 left").arg(done).arg(total).arg(eta(etaS)));
        m_last->setText(tr("Last prediction: %1").arg(last.left(300)));
    });
    connect(worker, &EngineWorker::predictFinished, this,
            [this](qint64 rows, qint64 resumed, bool cancelled, double accuracy, double f1) {
                if (!m_running) return;
                m_running = false;
                m_completed = !cancelled;
                m_start->setEnabled(true);
                m_stop->setEnabled(false);
                m_start->setText(cancelled ? tr("Resume") : tr("Run again"));
                QString text = cancelled ? tr("Stopped after %1 rows; Resume continues where it stopped.").arg(rows)
                                         : tr("%1 rows written to %2.").arg(rows).arg(m_output->text());
                if (resumed > 0) text += tr(" (%1 rows were already there from an earlier run.)").arg(resumed);
                if (accuracy >= 0) text += tr("\nAccuracy %1 · macro-F1 %2 (exact match with '%3')")
                                               .arg(accuracy, 0, 'f', 4).arg(f1, 0, 'f', 4).arg(m_label->currentText());
                m_runStatus->setText(text);
                m_summary->setText(text);
                static_cast<CheckedPage*>(page(RunPage))->changed();
                Q_EMIT runFinished(!cancelled);
            });
    connect(worker, &EngineWorker::failed, this, [this](EngineJob job, const QString& message, const QString& hint) {
        if (job != EngineJob::Predict) return;  // another page's request
        if (!m_running) return;
        m_running = false;
        m_start->setEnabled(true);
        m_stop->setEnabled(false);
        m_runStatus->setText(tr("Error: %1").arg(message) + (hint.isEmpty() ? QString() : tr("\nHint: %1").arg(hint)));
        Q_EMIT runFinished(false);
    });
}

PredictWizard::~PredictWizard() = default;

QWizardPage* PredictWizard::makeCsvPage() {
    auto* p = new CheckedPage;
    p->setTitle(tr("Choose a CSV file"));
    p->setSubTitle(tr("UTF-8 or GBK/GB18030; the encoding is detected. Every row gets one prediction."));
    m_csv = new QLineEdit;
    auto* browse = new QPushButton(tr("Browse…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("CSV file"), m_csv->text(), tr("CSV files (*.csv);;All files (*)"));
        if (!f.isEmpty()) setCsv(f);
    });
    connect(m_csv, &QLineEdit::editingFinished, this, &PredictWizard::loadCsv);
    m_csvInfo = messageLabel();
    m_csvInfo->setWordWrap(true);
    m_csvPreview = new QTableWidget;
    m_csvPreview->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* row = new QHBoxLayout;
    row->addWidget(m_csv, 1);
    row->addWidget(browse);
    auto* l = new QVBoxLayout(p);
    l->addLayout(row);
    l->addWidget(m_csvInfo);
    l->addWidget(m_csvPreview, 1);
    p->complete = [this] { return !m_table->header.empty(); };
    return p;
}

QWizardPage* PredictWizard::makePromptPage() {
    auto* p = new CheckedPage;
    p->setTitle(tr("Write the prompt"));
    p->setSubTitle(tr("Use {column} for a column's value. The preview shows the first rows as the model will see them."));
    m_template = new QPlainTextEdit;
    m_template->setMaximumHeight(100);
    m_insertColumn = new QComboBox;
    auto* insert = new QPushButton(tr("Insert column"));
    connect(insert, &QPushButton::clicked, this, [this] {
        if (m_insertColumn->count()) m_template->insertPlainText("{" + m_insertColumn->currentText() + "}");
    });
    m_label = new QComboBox;
    m_label->setToolTip(tr("A column with the expected answer: accuracy and F1 at the end"));
    m_preview = new QPlainTextEdit;
    m_preview->setReadOnly(true);
    connect(m_template, &QPlainTextEdit::textChanged, this, &PredictWizard::updatePreview);
    auto* row = new QHBoxLayout;
    row->addWidget(m_insertColumn, 1);
    row->addWidget(insert);
    auto* form = new QFormLayout;
    form->addRow(tr("Prompt template"), m_template);
    form->addRow(QString(), row);
    form->addRow(tr("Label column"), m_label);
    auto* l = new QVBoxLayout(p);
    l->addLayout(form);
    l->addWidget(new QLabel(tr("Preview of the first rows:")));
    l->addWidget(m_preview, 1);
    p->complete = [this] { return !m_template->toPlainText().trimmed().isEmpty() && !promptPreview().startsWith("⚠"); };
    connect(m_template, &QPlainTextEdit::textChanged, p, &CheckedPage::changed);
    return p;
}

QWizardPage* PredictWizard::makeModelPage() {
    auto* p = new CheckedPage;
    p->setTitle(tr("Model and settings"));
    p->setSubTitle(tr("Greedy decoding, so a run can be repeated and resumed with the same answers."));
    m_model = new QLineEdit;
    m_adapter = new QLineEdit;
    m_adapter->setPlaceholderText(tr("optional"));
    m_chatTemplate = new QComboBox;
    m_chatTemplate->addItem(tr("auto"));
    for (const auto& n : ChatTemplate::names()) m_chatTemplate->addItem(QString::fromStdString(n));
    m_device = new QComboBox;
    m_device->addItems({"auto", "cpu", "cuda"});
    m_maxNewTokens = new QSpinBox;
    m_maxNewTokens->setRange(1, 8192);
    m_maxNewTokens->setValue(256);
    m_batchSize = new QSpinBox;
    m_batchSize->setRange(1, 512);
    m_batchSize->setValue(8);
    m_batchSize->setToolTip(tr("Rows answered together (a new row joins as one finishes); more is faster until the GPU memory is full"));
    m_output = new QLineEdit;
    m_barSettings = messageLabel();
    auto* form = new QFormLayout(p);
    form->addRow(tr("Model folder"), m_model);
    form->addRow(tr("Adapter folder"), m_adapter);
    form->addRow(tr("Template"), m_chatTemplate);
    form->addRow(tr("Device"), m_device);
    form->addRow(tr("Max new tokens"), m_maxNewTokens);
    form->addRow(tr("Batch size"), m_batchSize);
    form->addRow(tr("Output CSV"), m_output);
    form->addRow(m_barSettings);
    p->complete = [this] { return !m_model->text().isEmpty() && !m_output->text().isEmpty(); };
    connect(m_model, &QLineEdit::textChanged, p, &CheckedPage::changed);
    connect(m_output, &QLineEdit::textChanged, p, &CheckedPage::changed);
    return p;
}

QWizardPage* PredictWizard::makeRunPage() {
    auto* p = new CheckedPage;
    p->setTitle(tr("Run"));
    p->setSubTitle(tr("Rows are written as they are predicted: stopping or a crash loses nothing, and running again "
                      "continues after the last written row."));
    m_start = new QPushButton(tr("Start"));
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setEnabled(false);
    m_progress = new QProgressBar;
    m_runStatus = messageLabel();
    m_runStatus->setWordWrap(true);
    m_last = messageLabel();
    m_last->setWordWrap(true);
    connect(m_start, &QPushButton::clicked, this, &PredictWizard::startRun);
    connect(m_stop, &QPushButton::clicked, this, &PredictWizard::stopRun);
    auto* row = new QHBoxLayout;
    row->addStretch(1);
    row->addWidget(m_start);
    row->addWidget(m_stop);
    auto* l = new QVBoxLayout(p);
    l->addWidget(m_progress);
    l->addWidget(m_runStatus);
    l->addWidget(m_last);
    l->addStretch(1);
    l->addLayout(row);
    p->complete = [this] { return m_completed && !m_running; };
    return p;
}

QWizardPage* PredictWizard::makeSummaryPage() {
    auto* p = new CheckedPage;
    p->setTitle(tr("Summary"));
    m_summary = messageLabel();
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* l = new QVBoxLayout(p);
    l->addWidget(m_summary);
    l->addStretch(1);
    return p;
}

void PredictWizard::setCsv(const QString& path) {
    m_csv->setText(path);
    loadCsv();
}

void PredictWizard::loadCsv() {
    const QStringList header = readAndPreviewTable(
        *m_table, [this] { return data::read_csv(m_csv->text().toStdString()); }, m_csvInfo, m_csvPreview, 20);
    m_insertColumn->clear();
    m_insertColumn->addItems(header);
    m_label->clear();
    m_label->addItem(tr("(none)"));
    m_label->addItems(header);
    if (!m_csv->text().isEmpty() && m_output->text().isEmpty()) {
        QFileInfo fi(m_csv->text());
        m_output->setText(fi.absolutePath() + "/" + fi.completeBaseName() + ".predictions.csv");
    }
    static_cast<CheckedPage*>(page(CsvPage))->changed();
    updatePreview();
}

QString PredictWizard::promptPreview() const {
    if (m_table->rows.empty()) return tr("⚠ no rows");
    QString out;
    try {
        for (size_t r = 0; r < std::min<size_t>(3, m_table->rows.size()); ++r) {
            out += tr("— row %1 —\n").arg(r + 1) +
                   QString::fromStdString(data::fill_template(m_template->toPlainText().toStdString(), m_table->header,
                                                              m_table->rows[r], "prompt template")) +
                   "\n\n";
        }
    } catch (const std::exception& e) {
        const auto t = errorText(e);
        return tr("⚠ %1 (%2)").arg(t.message, t.hint);
    }
    return out;
}

void PredictWizard::updatePreview() { m_preview->setPlainText(promptPreview()); }

void PredictWizard::setPromptTemplate(const QString& text) { m_template->setPlainText(text); }
void PredictWizard::setLabelColumn(const QString& column) { m_label->setCurrentText(column); }
void PredictWizard::setModel(const QVariantMap& inference) {
    m_model->setText(inference.value("model_name_or_path").toString());
    m_adapter->setText(inference.value("adapter_name_or_path").toString());
    const int t = m_chatTemplate->findText(inference.value("template").toString());
    m_chatTemplate->setCurrentIndex(t < 0 ? 0 : t);
    const QString device = inference.value("device").toString();
    if (!device.isEmpty() && m_device->findText(device) < 0) m_device->addItem(device);
    if (!device.isEmpty()) m_device->setCurrentText(device);
    m_barExtras.clear();
    for (const char* key : {"quantization_bit", "flash_attn"})
        if (!inference.value(key).toString().isEmpty()) m_barExtras[key] = inference.value(key);
    const QString quant = m_barExtras.value("quantization_bit").toString();
    m_barSettings->setText(tr("From the top bar: quantization %1, attention %2")
                               .arg(quant.isEmpty() ? tr("none") : tr("%1-bit").arg(quant),
                                    m_barExtras.value("flash_attn", "auto").toString()));
}
void PredictWizard::setOutput(const QString& path) { m_output->setText(path); }
void PredictWizard::setMaxNewTokens(int n) { m_maxNewTokens->setValue(n); }

void PredictWizard::startRun() {
    if (m_running) return;
    m_running = true;
    m_completed = false;
    m_start->setEnabled(false);
    m_stop->setEnabled(true);
    m_runStatus->setText(tr("Loading the model…"));
    static_cast<CheckedPage*>(page(RunPage))->changed();
    QVariantMap a{{"csv", m_csv->text()},
                  {"output", m_output->text()},
                  {"prompt_template", m_template->toPlainText()},
                  {"model_name_or_path", m_model->text()},
                  {"adapter_name_or_path", m_adapter->text()},
                  {"device", m_device->currentText()},
                  {"do_sample", "false"},
                  {"max_new_tokens", m_maxNewTokens->value()},
                  {"per_device_eval_batch_size", m_batchSize->value()}};
    if (m_label->currentIndex() > 0) a["label_column"] = m_label->currentText();
    if (m_chatTemplate->currentIndex() > 0) a["template"] = m_chatTemplate->currentText();
    a.insert(m_barExtras);
    m_engine->requestBatchPredict(a);
}

void PredictWizard::stopRun() {
    m_engine->requestStop();
    m_runStatus->setText(tr("Stopping after the current row…"));
}

QString PredictWizard::summaryText() const { return m_summary->text(); }

}  // namespace tb::ui
