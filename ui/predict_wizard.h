// CSV batch-prediction wizard: choose a CSV (encoding detected, preview) → map columns into a
// prompt template with a live preview of the first rows → model, adapter and generation
// settings → run with progress and ETA, Stop, resume → summary with accuracy and F1 when a label
// column is chosen. The job is the engine's run_batch_predict, the same as `tunebench-cli predict`.
#pragma once

#include <QWizard>
#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace tb::data {
struct CsvTable;
}

namespace tb::ui {

class EngineController;

class PredictWizard : public QWizard {
    Q_OBJECT
public:
    enum Page { CsvPage, PromptPage, ModelPage, RunPage, SummaryPage };
    PredictWizard(EngineController* engine, QWidget* parent = nullptr);
    ~PredictWizard() override;

    // For the demo and tests: fill the pages without clicking.
    void setCsv(const QString& path);
    void setPromptTemplate(const QString& text);
    void setLabelColumn(const QString& column);
    // The top bar's model settings (ModelBar::inferenceArguments): model, adapter, template and
    // device fill the model page; quantization and attention kernel are used as they are.
    void setModel(const QVariantMap& inference);
    void setOutput(const QString& path);
    void setMaxNewTokens(int n);
    void startRun();
    void stopRun();
    bool running() const { return m_running; }
    QString summaryText() const;
    QString promptPreview() const;

Q_SIGNALS:
    void runFinished(bool completed);

private:
    QWizardPage* makeCsvPage();
    QWizardPage* makePromptPage();
    QWizardPage* makeModelPage();
    QWizardPage* makeRunPage();
    QWizardPage* makeSummaryPage();
    void loadCsv();
    void updatePreview();

    EngineController* m_engine;
    std::unique_ptr<data::CsvTable> m_table;
    bool m_running = false, m_completed = false;
    // CSV page
    QLineEdit* m_csv;
    QLabel* m_csvInfo;
    QTableWidget* m_csvPreview;
    // prompt page
    QPlainTextEdit* m_template;
    QComboBox* m_insertColumn;
    QComboBox* m_label;
    QPlainTextEdit* m_preview;
    // model page
    QLineEdit* m_model;
    QLineEdit* m_adapter;
    QComboBox* m_chatTemplate;
    QComboBox* m_device;
    QSpinBox* m_maxNewTokens;
    QSpinBox* m_batchSize;
    QLineEdit* m_output;
    QLabel* m_barSettings;
    QVariantMap m_barExtras;  // quantization_bit, flash_attn
    // run page
    QPushButton* m_start;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_runStatus;
    QLabel* m_last;
    // summary page
    QLabel* m_summary;
};

}  // namespace tb::ui
