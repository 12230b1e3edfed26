// The workbench window: tabs Train, Evaluate & Predict, Chat, Export, Datasets.
#pragma once

#include <QMainWindow>

class QTabWidget;

namespace tb::ui {

class EngineController;
class ChatPage;
class TrainPage;
class ExportPage;
class PredictWizard;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Selects the demo model (DIR/model) everywhere it applies.
    void openDemo(const QString& demoDir);
    QTabWidget* tabs() const { return m_tabs; }
    ChatPage* chatPage() const { return m_chat; }
    TrainPage* trainPage() const { return m_train; }
    ExportPage* exportPage() const { return m_export; }
    PredictWizard* openPredictWizard();  // the CSV batch-prediction wizard, prefilled with the current model
    EngineController* engine() const { return m_engine; }

private:
    EngineController* m_engine;
    QTabWidget* m_tabs;
    ChatPage* m_chat;
    TrainPage* m_train;
    ExportPage* m_export;
    QString m_demoDir;
};

}  // namespace tb::ui
