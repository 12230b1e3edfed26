// Export tab: merge an adapter into its base and write a Hugging Face folder (shard size,
// dtype, legacy .bin); progress in a log; after writing, the export is reloaded and checked
// against base + adapter on a few prompts, and the result is shown. Also shares an adapter as
// one .zip and imports such a zip.
#pragma once

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QCheckBox;

namespace tb::ui {

class EngineController;
class ModelBar;
class UiTexts;
struct ZipResult;

class ExportPage : public QWidget {
    Q_OBJECT
public:
    // The base model and the adapter come from the top bar.
    ExportPage(EngineController* engine, ModelBar* bar, QWidget* parent = nullptr);
    void setExportDir(const QString& exportDir);
    // The top bar's adapter → zipPath; a zip → a new adapter folder (then chosen in the top bar).
    bool shareAdapter(const QString& zipPath);
    bool importAdapter(const QString& zipPath, const QString& targetDir);
    void startExport();
    QPushButton* exportButton() const { return m_export; }
    QComboBox* formatBox() const { return m_format; }
    QComboBox* ggufTypeBox() const { return m_ggufType; }
    QComboBox* quantizeBox() const { return m_quantize; }
    QCheckBox* compareBox() const { return m_compare; }
    QString logText() const;
    QString resultText() const;

Q_SIGNALS:
    void exportFinished(bool ok, const QString& summary);

private:
    void setRunning(bool running);

    void showZipResult(const ZipResult& r);

    EngineController* m_engine;
    ModelBar* m_bar;
    UiTexts* m_texts;
    QLabel* m_source;
    QLineEdit* m_dir;
    QDoubleSpinBox* m_size;
    QComboBox* m_dtype;
    QComboBox* m_device;
    QCheckBox* m_legacy;
    QComboBox* m_format;
    QComboBox* m_ggufType;
    QComboBox* m_quantize;
    QCheckBox* m_compare;
    QPushButton* m_export;
    QLabel* m_result;
    QPlainTextEdit* m_log;
    bool m_running = false;
};

}  // namespace tb::ui
