// Train tab: model, dataset (from dataset_info.json), method and optimisation settings with
// LLaMA-Factory's defaults; Preview command (the equivalent `tunebench-cli train` YAML); Start,
// Stop & save, Cancel; progress with step/total, ETA and tokens/s; a live chart of the training
// loss (raw and smoothed) and eval loss; a log panel where errors appear with their hint.
#pragma once

#include <QList>
#include <QPair>
#include <QVariantMap>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QCheckBox;
class QChart;
class QLineSeries;
class QValueAxis;

namespace tb::ui {

class EngineController;
class ModelBar;
class UiTexts;

class TrainPage : public QWidget {
    Q_OBJECT
public:
    // Model, adapter, template, quantization, attention and device come from the top bar.
    TrainPage(EngineController* engine, ModelBar* bar, QWidget* parent = nullptr);

    // Fills the form for the embedded demo (DIR/data; the bar holds DIR/model).
    void useDemo(const QString& demoDir);
    void setDatasetDir(const QString& dir);
    void setOutputDir(const QString& dir);
    QString outputDir() const;
    bool isRunning() const { return m_running; }
    // Start from the adapter chosen in the top bar (continue training it) instead of fresh weights.
    QCheckBox* fromAdapterBox() const { return m_fromAdapter; }
    QString datasetDir() const;
    // The arguments the form describes, with LLaMA-Factory's key names.
    QVariantMap arguments() const;
    QString previewYaml() const;  // empty (and the error in the log) when the form is invalid
    // training_args YAML (what `tunebench-cli train` reads): write the form / fill the form from one
    bool saveArguments(const QString& path);
    bool loadArguments(const QString& path);
    // "Will it fit, how long?": the memory estimate now, the time estimate (which reads and
    // tokenizes the dataset and measures the device) from the engine thread; shown under the
    // progress bar. Returns the memory part.
    QString estimate();
    QString estimateText() const;

    void start();
    QPushButton* startButton() const { return m_start; }
    QPushButton* stopButton() const { return m_stopSave; }
    QPushButton* cancelButton() const { return m_cancel; }
    QDoubleSpinBox* epochsBox() const;
    int lossPoints() const;
    int evalPoints() const;
    QString logText() const;

Q_SIGNALS:
    void trainingFinished(bool ok, const QString& summary);
    // the run folder, after a finished or stopped run: the top bar lists its adapters
    void runFolderWritten(const QString& outputDir);

private:
    template <class W>
    W* field(const QString& key, W* widget, const char* tip);
    QWidget* fieldWidget(const QString& key) const;
    QString namingTheControl(const QString& message) const;
    void refreshDatasets();
    void onProgress(const QVariantMap& p);
    void addLossPoint(double step, double loss);
    void setRunning(bool running);
    // LlamaBoard's default: <model's folder>/../saves/<model>/<method>/train_<date-time>, new for every run
    void chooseFreshOutputDir();
    void log(const QString& line);

    EngineController* m_engine;
    ModelBar* m_bar;
    UiTexts* m_texts;
    // every form field under its training key; arguments() and loadArguments() go through it
    QList<QPair<QString, QWidget*>> m_fields;
    QLineEdit* m_datasetDir;
    QComboBox* m_dataset;
    QComboBox* m_precision;
    QSpinBox* m_alpha;
    QSpinBox* m_logging;
    QLineEdit* m_output;
    bool m_autoOutput = true;  // the output folder is the fresh one the page chose, not the user's
    QCheckBox* m_fromAdapter;
    QString m_memoryText;
    QPushButton* m_preview;
    QPushButton* m_saveArgs;
    QPushButton* m_estimate;
    QLabel* m_estimateLabel;
    QPushButton* m_loadArgs;
    QPushButton* m_start;
    QPushButton* m_stopSave;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_status;
    QChart* m_chart;
    QLineSeries* m_loss;
    QLineSeries* m_smooth;
    QLineSeries* m_eval;
    QLineSeries* m_lrSeries;
    QValueAxis* m_lrAxis;
    QValueAxis* m_x;
    QValueAxis* m_y;
    QPlainTextEdit* m_log;
    bool m_running = false;
    double m_ema = 0;
    double m_yMax = 0;
    double m_lrMax = 0;
};

}  // namespace tb::ui
