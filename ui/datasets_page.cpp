// Reading and converting go through the engine's data/ code (the same as `tunebench-cli
// convert` and training), so the preview shows exactly what training will see.
#include "datasets_page.h"
#include "message_label.h"
#include "error_text.h"
#include "confirm.h"
#include "safe_unzip.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextEdit>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "core/error.h"
#include "data/csv_convert.h"
#include "data/dataset_registry.h"
#include "data/records.h"
#include "data/sft_encoding.h"
#include "folder_field.h"
#include "model/model_config.h"
#include "model_bar.h"
#include "table_preview.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "ui_texts.h"

namespace tb::ui {
namespace {
bool isDataFile(const QString& name) {
    const auto n = name.toLower();
    return n.endsWith(".csv") || n.endsWith(".json") || n.endsWith(".jsonl");
}

QComboBox* mappingBox() {
    auto* c = new QComboBox;
    c->setEditable(true);
    c->setMinimumWidth(260);
    return c;
}
}  // namespace

DatasetsPage::DatasetsPage(ModelBar* bar, QWidget* parent)
    : QWidget(parent), m_bar(bar), m_texts(new UiTexts(this)), m_table(std::make_unique<data::CsvTable>()) {
    m_file = new QLineEdit;
    m_texts->set(m_file, "placeholderText", QT_TR_NOOP("a .csv, .json or .jsonl file, or a .zip holding one"));
    auto* open = new QPushButton;
    m_texts->set(open, "text", QT_TR_NOOP("Open…"));
    m_zipEntry = new QComboBox;
    m_zipEntry->setEnabled(false);
    m_texts->set(m_zipEntry, "toolTip", QT_TR_NOOP("the data file inside the zip"));
    m_info = messageLabel();
    m_info->setWordWrap(true);
    m_rows = new QTableWidget;
    m_rows->setEditTriggers(QAbstractItemView::NoEditTriggers);

    m_instruction = mappingBox();
    m_input = mappingBox();
    m_output = mappingBox();
    m_system = mappingBox();
    m_texts->set(m_instruction, "toolTip", QT_TR_NOOP("what the model is asked: a column as {column}, or text with {column} placeholders"));
    m_texts->set(m_output, "toolTip", QT_TR_NOOP("the answer the model learns"));
    m_previewRow = new QSpinBox;
    m_previewRow->setRange(1, 1);
    m_cutoff = new QSpinBox;
    m_cutoff->setRange(16, 131072);
    m_cutoff->setValue(1024);
    m_texts->set(m_cutoff, "toolTip", QT_TR_NOOP("cutoff_len, as in training: longer examples are truncated"));
    m_rendered = new QTextEdit;
    m_rendered->setReadOnly(true);
    m_tokens = messageLabel();
    m_tokens->setWordWrap(true);

    m_datasetDir = new QLineEdit;
    m_texts->set(m_datasetDir, "toolTip", QT_TR_NOOP("dataset_dir: the converted file goes here and is registered in its dataset_info.json"));
    m_name = new QLineEdit;
    m_texts->set(m_name, "toolTip", QT_TR_NOOP("the dataset's name in dataset_info.json (an existing entry is replaced)"));
    m_format = new QComboBox;
    m_format->addItems({"json", "jsonl"});
    auto* write = m_write = new QPushButton;
    m_texts->set(write, "text", QT_TR_NOOP("Write dataset"));
    m_result = messageLabel();
    m_result->setWordWrap(true);

    auto* fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(open);
    fileRow->addWidget(m_zipEntry);
    auto* source = new QWidget;
    auto* sl = new QVBoxLayout(source);
    sl->setContentsMargins(0, 0, 0, 0);
    sl->addLayout(fileRow);
    sl->addWidget(m_info);
    sl->addWidget(m_rows, 1);

    auto* mapping = new QGroupBox;
    m_texts->set(mapping, "title", QT_TR_NOOP("Columns → training example"));
    auto* mf = new QFormLayout(mapping);
    mf->addRow(m_texts->label(QT_TR_NOOP("Instruction")), m_instruction);
    mf->addRow(m_texts->label(QT_TR_NOOP("Input")), m_input);
    mf->addRow(m_texts->label(QT_TR_NOOP("Output")), m_output);
    mf->addRow(m_texts->label(QT_TR_NOOP("System")), m_system);
    auto* previewRow = new QHBoxLayout;
    previewRow->addWidget(m_previewRow);
    previewRow->addWidget(m_texts->label(QT_TR_NOOP("Cutoff length")));
    previewRow->addWidget(m_cutoff);
    previewRow->addStretch(1);
    mf->addRow(m_texts->label(QT_TR_NOOP("Preview row")), previewRow);
    auto* target = new QGroupBox;
    m_texts->set(target, "title", QT_TR_NOOP("Write"));
    auto* tf = new QFormLayout(target);
    tf->addRow(m_texts->label(QT_TR_NOOP("Dataset folder")), folderField(m_datasetDir, this));
    tf->addRow(m_texts->label(QT_TR_NOOP("Dataset name")), m_name);
    tf->addRow(m_texts->label(QT_TR_NOOP("Format")), m_format);
    tf->addRow(QString(), write);
    tf->addRow(QString(), m_result);
    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    rl->addWidget(mapping);
    rl->addWidget(m_texts->label(QT_TR_NOOP("As the model sees it (green: trained tokens, grey: masked):")));
    rl->addWidget(m_rendered, 1);
    rl->addWidget(m_tokens);
    rl->addWidget(target);

    auto* split = new QSplitter;
    split->addWidget(source);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(open, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("Open data"), m_file->text(),
                                              tr("Data files (*.csv *.json *.jsonl *.zip);;All files (*)"));
        if (!f.isEmpty()) openFile(f);
    });
    connect(m_file, &QLineEdit::editingFinished, this, [this] {
        if (m_file->text() != m_source) openFile(m_file->text());
    });
    connect(m_zipEntry, &QComboBox::activated, this, [this] {
        if (m_unzipped) loadTable(m_unzipped->filePath(m_zipEntry->currentText()));
    });
    for (auto* c : {m_instruction, m_input, m_output, m_system}) connect(c, &QComboBox::currentTextChanged, this, &DatasetsPage::updatePreview);
    connect(m_previewRow, &QSpinBox::valueChanged, this, &DatasetsPage::updatePreview);
    connect(m_cutoff, &QSpinBox::valueChanged, this, &DatasetsPage::updatePreview);
    connect(m_bar, &ModelBar::modelChanged, this, &DatasetsPage::updatePreview);
    connect(write, &QPushButton::clicked, this, &DatasetsPage::writeDataset);
    m_texts->onRetranslate([this] { updatePreview(); });
}

DatasetsPage::~DatasetsPage() = default;

void DatasetsPage::openFile(const QString& path) {
    m_file->setText(path);
    m_zipEntry->clear();
    m_zipEntry->setEnabled(false);
    m_unzipped.reset();
    if (!path.toLower().endsWith(".zip")) {
        loadTable(path);
        return;
    }
    m_unzipped = std::make_unique<QTemporaryDir>();
    // A dataset archive: only its data files are extracted, 8 GB at most (they are read into memory).
    const auto unzipped = unzipSafely(path, m_unzipped->path(), ZipLimits{qint64{8} << 30, 100000},
                                      [](const QString& name) { return isDataFile(name); });
    if (!unzipped.ok) {
        m_info->setText("⚠ " + unzipped.message);
        return;
    }
    const QStringList entries = unzipped.files;
    if (entries.isEmpty()) {
        m_info->setText(tr("⚠ %1 holds no .csv, .json or .jsonl file").arg(path));
        return;
    }
    m_zipEntry->addItems(entries);
    m_zipEntry->setEnabled(entries.size() > 1);
    loadTable(m_unzipped->filePath(entries.first()));
}

void DatasetsPage::loadTable(const QString& path) {
    m_source = path;
    const QStringList header =
        readAndPreviewTable(*m_table, [&] { return data::read_table(path.toStdString()); }, m_info, m_rows, 50);
    // the usual column names are mapped at once; the rest are offered as {column}
    QStringList choices{QString()};
    for (const auto& h : header) choices << "{" + h + "}";
    auto guess = [&](QComboBox* box, QStringList names) {
        box->blockSignals(true);
        box->clear();
        box->addItems(choices);
        for (const auto& n : names)
            if (header.contains(n)) {
                box->setCurrentText("{" + n + "}");
                break;
            }
        box->blockSignals(false);
    };
    guess(m_instruction, {"instruction", "prompt", "question", "query"});
    guess(m_input, {"input", "context"});
    guess(m_output, {"output", "response", "answer", "label"});
    guess(m_system, {"system"});
    m_previewRow->setRange(1, std::max(1, static_cast<int>(m_table->rows.size())));
    if (m_name->text().isEmpty()) m_name->setText(QFileInfo(path).completeBaseName());
    updatePreview();
}

void DatasetsPage::setMapping(const QString& instruction, const QString& input, const QString& output, const QString& system) {
    m_instruction->setCurrentText(instruction);
    m_input->setCurrentText(input);
    m_output->setCurrentText(output);
    m_system->setCurrentText(system);
    updatePreview();
}

void DatasetsPage::setTarget(const QString& datasetDir, const QString& name) {
    m_datasetDir->setText(datasetDir);
    m_name->setText(name);
}

namespace {
struct LoadedTokenizer {
    std::shared_ptr<const Tokenizer> tokenizer;
    std::string detected_template;
    QString error;
};
}  // namespace

void DatasetsPage::loadTokenizer() {
    const QString dir = m_bar->modelDir();
    if (dir == m_tokenizerDir) return;
    // once per model folder: the preview re-renders on every keystroke
    m_tokenizer.reset();
    m_tokenizerDir = dir;
    m_tokenizerError.clear();
    m_tokenizerLoading = !dir.isEmpty();
    if (dir.isEmpty()) return;
    auto* watcher = new QFutureWatcher<LoadedTokenizer>(this);
    connect(watcher, &QFutureWatcher<LoadedTokenizer>::finished, this, [this, watcher, dir] {
        watcher->deleteLater();
        if (dir != m_tokenizerDir) return;  // the top bar moved on to another model meanwhile
        const auto loaded = watcher->result();
        m_tokenizer = loaded.tokenizer;
        m_detectedTemplate = loaded.detected_template;
        m_tokenizerError = loaded.error;
        m_tokenizerLoading = false;
        updatePreview();
    });
    watcher->setFuture(QtConcurrent::run([dir] {
        LoadedTokenizer r;
        try {
            const auto config = ModelConfig::from_folder(dir.toStdString());
            std::shared_ptr<const Tokenizer> tok = load_tokenizer(dir.toStdString(), &config);
            r.detected_template = detect_template(dir.toStdString(), config, *tok);
            if (r.detected_template.empty()) r.detected_template = "empty";
            r.tokenizer = std::move(tok);
        } catch (const std::exception& e) {
            r.error = errorText(e).message;
        }
        return r;
    }));
}

void DatasetsPage::updatePreview() {
    m_rendered->clear();
    m_tokens->clear();
    if (m_table->rows.empty()) return;
    const size_t r = std::min<size_t>(m_previewRow->value() - 1, m_table->rows.size() - 1);
    try {
        const auto& row = m_table->rows[r];
        auto fill = [&](QComboBox* box, const char* what) {
            return data::fill_template(box->currentText().toStdString(), m_table->header, row, what);
        };
        nlohmann::json record{{"instruction", fill(m_instruction, "instruction")}, {"input", fill(m_input, "input")},
                              {"output", fill(m_output, "output")}, {"system", fill(m_system, "system")}};
        data::DatasetAttr attr;
        attr.columns = {{"prompt", "instruction"}, {"query", "input"}, {"response", "output"}, {"system", "system"}};
        data::DatasetLoadReport report;
        const auto example = data::convert_record(record, attr, tr("row %1").arg(r + 1).toStdString(), &report);
        if (!example) {
            m_tokens->setText(tr("⚠ this row would be skipped in training: %1")
                                  .arg(report.warnings.empty() ? QString() : QString::fromStdString(report.warnings.front())));
            return;
        }
        loadTokenizer();
        const Tokenizer* tok = m_tokenizer.get();
        if (m_tokenizerLoading) {
            m_tokens->setText(tr("Loading the tokenizer of %1 …").arg(m_tokenizerDir));
            return;
        }
        if (!tok) {
            m_tokens->setText(m_tokenizerError.isEmpty() ? tr("Choose a model in the top bar to see the tokens.")
                                                         : tr("⚠ %1").arg(m_tokenizerError));
            return;
        }
        const std::string templ = m_bar->templateName().isEmpty() ? m_detectedTemplate : m_bar->templateName().toStdString();
        const auto encoded = data::encode_supervised(*example, ChatTemplate::get(templ), *tok, {m_cutoff->value(), false, false});
        // spans of equal masking, each decoded as a whole so multi-byte characters survive. The
        // first position is never a target (the loss predicts position i from i-1), even where an
        // efficient_eos template puts its eos label there.
        const auto& ids = encoded.input_ids;
        auto masked_at = [&](size_t i) { return i == 0 || encoded.labels[i] == data::kIgnoreIndex; };
        int64_t trained = 0;
        for (size_t i = 0; i < ids.size(); ++i) trained += masked_at(i) ? 0 : 1;
        QString html;
        size_t start = 0;
        for (size_t i = 1; i <= ids.size(); ++i) {
            const bool masked = masked_at(start);
            if (i < ids.size() && masked_at(i) == masked) continue;
            const std::vector<int64_t> span(ids.begin() + static_cast<long>(start), ids.begin() + static_cast<long>(i));
            const QString text = QString::fromStdString(tok->decode(span, false)).toHtmlEscaped().replace("\n", "↵<br>");
            html += masked ? "<span style='color:#888'>" + text + "</span>"
                           : "<span style='background:#c8f0c8'>" + text + "</span>";
            start = i;
        }
        m_rendered->setHtml(html);
        m_tokens->setText(tr("%1 tokens under template %2: %3 trained, %4 masked (cutoff %5)")
                              .arg(ids.size())
                              .arg(QString::fromStdString(templ))
                              .arg(trained)
                              .arg(static_cast<qint64>(ids.size()) - trained)
                              .arg(m_cutoff->value()));
    } catch (const std::exception& e) {
        const auto t = errorText(e);
        m_tokens->setText(tr("⚠ %1 (%2)").arg(t.message, t.hint));
    }
}

bool DatasetsPage::writeDataset() {
    if (m_source.isEmpty() || m_name->text().trimmed().isEmpty() || m_datasetDir->text().isEmpty()) {
        m_result->setText(tr("⚠ open a file and name the dataset and its folder first"));
        return false;
    }
    data::CsvConvertOptions o;
    o.csv = m_source.toStdString();
    o.instruction = m_instruction->currentText().toStdString();
    o.input_template = m_input->currentText().toStdString();
    o.output_template = m_output->currentText().toStdString();
    o.system_template = m_system->currentText().toStdString();
    o.dataset_dir = m_datasetDir->text().toStdString();
    o.dataset_name = m_name->text().trimmed().toStdString();
    o.output = (m_datasetDir->text() + "/" + m_name->text().trimmed() + "." + m_format->currentText()).toStdString();
    try {
        // A dataset of this name (its file or its registry entry) is replaced only after a yes.
        bool registered = false;
        if (std::filesystem::exists(o.dataset_dir / "dataset_info.json"))
            registered = data::read_dataset_info(o.dataset_dir).count(o.dataset_name) > 0;
        if (registered || std::filesystem::exists(o.output)) {
            if (!confirm(this, tr("Replace the dataset?"),
                         tr("A dataset named '%1' already exists in %2. Replace it with this one?")
                             .arg(m_name->text().trimmed(), m_datasetDir->text()))) {
                m_result->setText(tr("Nothing written: '%1' is kept as it was. Choose another name to keep both.")
                                      .arg(m_name->text().trimmed()));
                return false;
            }
            o.overwrite = true;
        }
        const auto r = data::convert_csv(o);
        m_result->setText(tr("%1 examples written to %2 and registered as '%3'%4")
                              .arg(r.rows)
                              .arg(QString::fromStdString(o.output.string()), m_name->text().trimmed())
                              .arg(r.empty_outputs ? tr(" (%1 with an empty output are skipped in training)").arg(r.empty_outputs)
                                                   : QString()));
    } catch (const std::exception& e) {
        const auto t = errorText(e);
        m_result->setText(tr("⚠ %1\n%2").arg(t.message, t.hint));
        return false;
    }
    Q_EMIT datasetWritten(m_datasetDir->text(), m_name->text().trimmed());
    return true;
}

int DatasetsPage::rowCount() const { return static_cast<int>(m_table->rows.size()); }
QString DatasetsPage::infoText() const { return m_info->text(); }
QString DatasetsPage::renderedText() const { return m_rendered->toPlainText(); }
QString DatasetsPage::tokenText() const { return m_tokens->text(); }
QString DatasetsPage::resultText() const { return m_result->text(); }

}  // namespace tb::ui
