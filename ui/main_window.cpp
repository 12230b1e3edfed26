// Main window assembly: the pages share the top bar; a run the Train tab writes is offered in the
// bar's adapter picker, a dataset the Datasets tab writes appears in the Train tab's list.
#include "main_window.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "analyze_page.h"
#include "chat_page.h"
#include "confirm.h"
#include "datasets_page.h"
#include "engine_controller.h"
#include "evaluate_page.h"
#include "export_page.h"
#include "language.h"
#include "model_bar.h"
#include "predict_wizard.h"
#include "train_page.h"
#include "ui_texts.h"

namespace tb::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_engine(new EngineController(this)), m_texts(new UiTexts(this)) {
    m_texts->set(this, "windowTitle", QT_TR_NOOP("Tunebench"));
    resize(1280, 820);
    m_bar = new ModelBar;
    m_tabs = new QTabWidget;
    m_train = new TrainPage(m_engine, m_bar);
    m_evaluate = new EvaluatePage(m_engine, m_bar);
    m_chat = new ChatPage(m_engine, m_bar);
    m_export = new ExportPage(m_engine, m_bar);
    m_datasets = new DatasetsPage(m_bar);
    m_analyze = new AnalyzePage(m_engine, m_bar);
    for (auto [page, title] : std::initializer_list<std::pair<QWidget*, const char*>>{
             {m_train, QT_TR_NOOP("Train")},
             {m_evaluate, QT_TR_NOOP("Evaluate && Predict")},
             {m_chat, QT_TR_NOOP("Chat")},
             {m_export, QT_TR_NOOP("Export")},
             {m_datasets, QT_TR_NOOP("Datasets")},
             {m_analyze, QT_TR_NOOP("Analyze")}}) {
        const int i = m_tabs->addTab(page, QString());
        m_texts->bind(title, [this, i](const QString& t) { m_tabs->setTabText(i, t); });
    }
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_bar);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);
    // "Ready" in the new language only where it said "Ready": a switch of language must not
    // replace a true status line (a demo opened, a dataset written) with it
    m_texts->bind(QT_TR_NOOP("Ready"), [this](const QString& t) {
        const QString now = statusBar()->currentMessage();
        if (now.isEmpty() || now == m_readyText) statusBar()->showMessage(t);
        m_readyText = t;
    });

    connect(m_train, &TrainPage::runFolderWritten, m_bar, [this](const QString& dir) { m_bar->addRunFolder(dir); });
    connect(m_evaluate, &EvaluatePage::csvWizardRequested, this, [this] { openPredictWizard(); });
    connect(m_datasets, &DatasetsPage::datasetWritten, this, [this](const QString& dir, const QString& name) {
        if (m_train->datasetDir() == dir) m_train->setDatasetDir(dir);
        m_evaluate->setDatasetDir(dir);
        statusBar()->showMessage(tr("Dataset '%1' is ready to train in %2").arg(name, dir));
    });
}

MainWindow::~MainWindow() = default;

void MainWindow::closeEvent(QCloseEvent* event) {
    if (!m_train->isRunning() || m_closeAfterRun) {
        event->accept();
        return;
    }
    const int answer = choose(this, tr("Training is running"),
                              tr("A training run is in progress. Closing now loses the steps since its last checkpoint."),
                              {tr("Stop && save, then close"), tr("Keep training"), tr("Close without saving")}, 0);
    if (answer == 0) {  // the page saves a checkpoint and the adapter; the window closes when that is done
        event->ignore();
        m_closeAfterRun = true;
        connect(m_train, &TrainPage::trainingFinished, this, [this] { close(); }, Qt::SingleShotConnection);
        m_engine->requestTrainStop(false);
        statusBar()->showMessage(tr("Stopping after this step and saving; the window closes when it is written…"));
    } else if (answer == 2) {
        m_engine->requestTrainStop(true);
        event->accept();
    } else {
        event->ignore();
    }
}

void MainWindow::setLanguage(const QString& code) {
    auto* box = m_bar->languageBox();
    box->setCurrentIndex(std::max(0, box->findData(code)));  // applies it
    applyLanguage(code);
}

void MainWindow::openDemo(const QString& demoDir) {
    m_bar->setModelDir(demoDir + "/model");
    m_bar->setTemplateName("chatglm3");
    m_train->useDemo(demoDir);
    m_evaluate->setDatasetDir(demoDir + "/data");
    m_evaluate->setDataset("tunebench_demo");
    m_evaluate->setOutputDir(demoDir + "/eval");
    m_export->setExportDir(demoDir + "/merged");
    m_datasets->setTarget(demoDir + "/data", QString());
    m_tabs->setCurrentWidget(m_train);  // Start is the next click
    m_chat->load();
    statusBar()->showMessage(tr("Demo: %1").arg(demoDir));
}

PredictWizard* MainWindow::openPredictWizard() {
    auto* wizard = new PredictWizard(m_engine, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    wizard->setModel(m_bar->inferenceArguments());
    wizard->show();
    return wizard;
}

}  // namespace tb::ui
