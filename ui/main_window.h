// The workbench window: the top bar (model, adapter, language, device …) over the tabs Train,
// Evaluate & Predict, Chat, Export and Datasets.
#pragma once

#include <QMainWindow>

class QTabWidget;

namespace tb::ui {

class EngineController;
class AnalyzePage;
class ChatPage;
class DatasetsPage;
class EvaluatePage;
class ExportPage;
class ModelBar;
class PredictWizard;
class TrainPage;
class UiTexts;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Selects the demo (DIR/model, DIR/data) everywhere it applies.
    void openDemo(const QString& demoDir);
    // "en" or "zh_CN": switches every visible text at once.
    void setLanguage(const QString& code);
    QTabWidget* tabs() const { return m_tabs; }
    ModelBar* modelBar() const { return m_bar; }
    ChatPage* chatPage() const { return m_chat; }
    TrainPage* trainPage() const { return m_train; }
    EvaluatePage* evaluatePage() const { return m_evaluate; }
    ExportPage* exportPage() const { return m_export; }
    DatasetsPage* datasetsPage() const { return m_datasets; }
    AnalyzePage* analyzePage() const { return m_analyze; }
    PredictWizard* openPredictWizard();  // the CSV batch-prediction wizard, prefilled from the top bar
    EngineController* engine() const { return m_engine; }

protected:
    // Closing while a run trains asks first: stop and save, keep training, or quit now.
    void closeEvent(QCloseEvent* event) override;

private:
    bool m_closeAfterRun = false;
    QString m_readyText;
    EngineController* m_engine;
    UiTexts* m_texts;
    ModelBar* m_bar;
    QTabWidget* m_tabs;
    TrainPage* m_train;
    EvaluatePage* m_evaluate;
    ChatPage* m_chat;
    ExportPage* m_export;
    DatasetsPage* m_datasets;
    AnalyzePage* m_analyze;
};

}  // namespace tb::ui
