// Datasets tab: import a CSV / JSON / JSONL file (also from inside a .zip), preview its rows,
// map columns into instruction / input / output / system ({column} placeholders, free text
// around them), see one row rendered with the top bar's template and tokenizer — its token
// count and which tokens are trained or masked — and write the converted file plus its
// dataset_info.json entry.
#pragma once

#include <QWidget>
#include <memory>
#include <string>

class QComboBox;
class QPushButton;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;
class QTemporaryDir;
class QTextEdit;

namespace tb {
class Tokenizer;
}
namespace tb::data {
struct CsvTable;
}

namespace tb::ui {

class ModelBar;
class UiTexts;

class DatasetsPage : public QWidget {
    Q_OBJECT
public:
    DatasetsPage(ModelBar* bar, QWidget* parent = nullptr);
    ~DatasetsPage() override;

    // A .csv / .json / .jsonl file, or a .zip (its first data file is opened; pick another in
    // the "File in zip" list).
    void openFile(const QString& path);
    // "{column}" templates; an empty string leaves the part out.
    void setMapping(const QString& instruction, const QString& input, const QString& output, const QString& system = {});
    void setTarget(const QString& datasetDir, const QString& name);
    bool writeDataset();
    QPushButton* writeButton() const { return m_write; }
    int rowCount() const;
    QString infoText() const;
    QString renderedText() const;   // the preview row as the model sees it
    QString tokenText() const;      // "N tokens: T trained, M masked …"
    QString resultText() const;

Q_SIGNALS:
    void datasetWritten(const QString& datasetDir, const QString& name);

private:
    void loadTable(const QString& path);
    void updatePreview();
    // The top bar's tokenizer and detected template, cached per folder; read off the GUI thread
    // (a large tokenizer.json takes a moment), then the preview is drawn again.
    void loadTokenizer();

    ModelBar* m_bar;
    UiTexts* m_texts;
    std::unique_ptr<data::CsvTable> m_table;
    std::unique_ptr<QTemporaryDir> m_unzipped;
    std::shared_ptr<const Tokenizer> m_tokenizer;
    QString m_tokenizerDir;
    QString m_tokenizerError;
    bool m_tokenizerLoading = false;
    std::string m_detectedTemplate;
    QString m_source;  // the data file read (inside m_unzipped for a zip)
    QLineEdit* m_file;
    QComboBox* m_zipEntry;
    QLabel* m_info;
    QTableWidget* m_rows;
    QComboBox* m_instruction;
    QComboBox* m_input;
    QComboBox* m_output;
    QComboBox* m_system;
    QSpinBox* m_previewRow;
    QSpinBox* m_cutoff;
    QTextEdit* m_rendered;
    QLabel* m_tokens;
    QLineEdit* m_datasetDir;
    QLineEdit* m_name;
    QComboBox* m_format;
    QLabel* m_result;
    QPushButton* m_write = nullptr;
};

}  // namespace tb::ui
