// Evaluate & Predict tab: predict over a dataset split with the top bar's model and adapter,
// writing generated_predictions.jsonl row by row (a stopped run resumes), then BLEU-4 and
// ROUGE-1/2/L and a table of the worst samples. Also opens the CSV batch-prediction wizard.
#pragma once

#include <QVariantMap>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace tb::ui {

class EngineController;
class ModelBar;
class UiTexts;

class EvaluatePage : public QWidget {
    Q_OBJECT
public:
    EvaluatePage(EngineController* engine, ModelBar* bar, QWidget* parent = nullptr);
    void setDatasetDir(const QString& dir);
    void setDataset(const QString& name);
    void setOutputDir(const QString& dir);
    void setMaxSamples(int n);
    void start();
    void stop();
    QString resultText() const;
    QTableWidget* worstTable() const { return m_worst; }

Q_SIGNALS:
    void evaluationFinished(bool completed);
    void csvWizardRequested();

private:
    void showReport(const QVariantMap& report);
    void setRunning(bool running);

    EngineController* m_engine;
    ModelBar* m_bar;
    UiTexts* m_texts;
    QLineEdit* m_datasetDir;
    QComboBox* m_dataset;
    QSpinBox* m_maxSamples;
    QSpinBox* m_maxNewTokens;
    QSpinBox* m_batchSize;
    QDoubleSpinBox* m_temperature;
    QLineEdit* m_output;
    QPushButton* m_start;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_result;
    QTableWidget* m_worst;
    bool m_running = false;
};

}  // namespace tb::ui
