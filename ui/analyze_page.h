// Analyze tab (seed 002's weight study): for the top bar's model, and optionally its adapter's
// update ΔW, the singular value spectra, the effective rank by layer, and each matrix's value
// histogram and statistics, as Qt Charts; the same JSON and SVG plots as `tunebench-cli analyze`
// are written to the output folder.
#pragma once

#include <QJsonArray>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;
class QChartView;

namespace tb::ui {

class EngineController;
class ModelBar;
class UiTexts;

class AnalyzePage : public QWidget {
    Q_OBJECT
public:
    AnalyzePage(EngineController* engine, ModelBar* bar, QWidget* parent = nullptr);
    void setOutputDir(const QString& dir);
    void setIncludeAdapter(bool on);
    void start();
    QString resultText() const;
    QTableWidget* table() const { return m_table; }
    // Series drawn in the spectrum, rank-by-layer and histogram charts.
    int spectrumSeries() const;
    int rankSeries() const;
    int histogramBins() const;

Q_SIGNALS:
    void analysisFinished(bool ok);

private:
    void show(const QJsonArray& matrices);
    void showHistogram(int row);
    void setRunning(bool running);

    EngineController* m_engine;
    ModelBar* m_bar;
    UiTexts* m_texts;
    QLineEdit* m_output;
    QCheckBox* m_adapter;
    QComboBox* m_which;  // base weights or the adapter's update
    QPushButton* m_start;
    QLabel* m_result;
    QTableWidget* m_table;
    QChartView* m_spectrum;
    QChartView* m_ranks;
    QChartView* m_histogram;
    QJsonArray m_matrices;
    bool m_running = false;
};

}  // namespace tb::ui
