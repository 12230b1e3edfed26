// Export tab: merge an adapter into its base and write a Hugging Face folder (shard size,
// dtype, legacy .bin); progress in a log; after writing, the export is reloaded and checked
// against base + adapter on a few prompts, and the result is shown.
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

class ExportPage : public QWidget {
    Q_OBJECT
public:
    ExportPage(EngineController* engine, QWidget* parent = nullptr);
    void setPaths(const QString& baseModel, const QString& adapter, const QString& exportDir);
    void startExport();
    QPushButton* exportButton() const { return m_export; }
    QString resultText() const;

Q_SIGNALS:
    void exportFinished(bool ok, const QString& summary);

private:
    void setRunning(bool running);

    EngineController* m_engine;
    QLineEdit* m_base;
    QLineEdit* m_adapter;
    QLineEdit* m_dir;
    QDoubleSpinBox* m_size;
    QComboBox* m_dtype;
    QComboBox* m_device;
    QCheckBox* m_legacy;
    QPushButton* m_export;
    QLabel* m_result;
    QPlainTextEdit* m_log;
    bool m_running = false;
};

}  // namespace tb::ui
