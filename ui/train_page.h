// Train tab: model, dataset (from dataset_info.json), method and optimisation settings with
// LLaMA-Factory's defaults; Preview command (the equivalent `tunebench-cli train` YAML); Start,
// Stop & save, Cancel; progress with step/total, ETA and tokens/s; a live chart of the training
// loss (raw and smoothed) and eval loss; a log panel where errors appear with their hint.
#pragma once

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
class QChart;
class QLineSeries;
class QValueAxis;

namespace tb::ui {

class EngineController;

class TrainPage : public QWidget {
    Q_OBJECT
public:
    TrainPage(EngineController* engine, QWidget* parent = nullptr);

    // Fills the form for the embedded demo (DIR/model, DIR/data).
    void useDemo(const QString& demoDir);
    void setModelDir(const QString& dir);
    void setDatasetDir(const QString& dir);
    // The arguments the form describes, with LLaMA-Factory's key names.
    QVariantMap arguments() const;
    QString previewYaml() const;  // empty (and the error in the log) when the form is invalid
    // training_args YAML (what `tunebench-cli train` reads): write the form / fill the form from one
    bool saveArguments(const QString& path);
    bool loadArguments(const QString& path);
    // "Will it fit?": the engine's memory estimate for the form, shown under the progress bar
    QString estimate();

    void start();
    QPushButton* startButton() const { return m_start; }
    QPushButton* stopButton() const { return m_stopSave; }
    QPushButton* cancelButton() const { return m_cancel; }
    QDoubleSpinBox* epochsBox() const { return m_epochs; }
    int lossPoints() const;
    int evalPoints() const;
    QString logText() const;

Q_SIGNALS:
    void trainingFinished(bool ok, const QString& summary);

private:
    void refreshDatasets();
    void onProgress(const QVariantMap& p);
    void addLossPoint(double step, double loss);
    void setRunning(bool running);
    void log(const QString& line);

    EngineController* m_engine;
    QLineEdit* m_modelDir;
    QComboBox* m_template;
    QComboBox* m_device;
    QLineEdit* m_datasetDir;
    QComboBox* m_dataset;
    QSpinBox* m_cutoff;
    QDoubleSpinBox* m_valSize;
    QComboBox* m_method;
    QComboBox* m_quant;
    QSpinBox* m_rank;
    QSpinBox* m_alpha;
    QDoubleSpinBox* m_dropout;
    QLineEdit* m_target;
    QLineEdit* m_lr;
    QDoubleSpinBox* m_epochs;
    QSpinBox* m_batch;
    QSpinBox* m_accum;
    QComboBox* m_scheduler;
    QDoubleSpinBox* m_warmup;
    QComboBox* m_precision;
    QSpinBox* m_logging;
    QSpinBox* m_save;
    QLineEdit* m_output;
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
