// Main window assembly. Evaluate & Predict and Datasets are placeholders until the GUI issue fills them.
#include "main_window.h"

#include <QLabel>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "chat_page.h"
#include "engine_controller.h"
#include "export_page.h"
#include "predict_wizard.h"

#include <QPushButton>
#include "train_page.h"

namespace tb::ui {
namespace {
QWidget* pendingPage(const QString& what) {
    auto* page = new QWidget;
    auto* label = new QLabel(what);
    label->setWordWrap(true);
    label->setAlignment(Qt::AlignCenter);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(label);
    return page;
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), m_engine(new EngineController(this)) {
    setWindowTitle(tr("Tunebench"));
    resize(1100, 720);
    m_tabs = new QTabWidget;
    m_chat = new ChatPage(m_engine);
    m_train = new TrainPage(m_engine);
    m_tabs->addTab(m_train, tr("Train"));
    auto* predict = pendingPage(tr("Evaluation over a dataset split (BLEU, ROUGE) is being built.\n\n"
                                   "Batch prediction over a CSV file works now:"));
    auto* wizardButton = new QPushButton(tr("Batch-predict a CSV…"));
    connect(wizardButton, &QPushButton::clicked, this, [this] { openPredictWizard(); });
    predict->layout()->addWidget(wizardButton);
    static_cast<QVBoxLayout*>(predict->layout())->addStretch(1);
    m_tabs->addTab(predict, tr("Evaluate && Predict"));
    m_tabs->addTab(m_chat, tr("Chat"));
    m_export = new ExportPage(m_engine);
    m_tabs->addTab(m_export, tr("Export"));
    m_tabs->addTab(pendingPage(tr("Dataset import and preview are being built.")), tr("Datasets"));
    setCentralWidget(m_tabs);
    statusBar()->showMessage(tr("Ready"));
}

MainWindow::~MainWindow() = default;

void MainWindow::openDemo(const QString& demoDir) {
    m_demoDir = demoDir;
    m_train->useDemo(demoDir);
    m_export->setPaths(demoDir + "/model", demoDir + "/lora-gui", demoDir + "/merged");
    m_chat->setModelDir(demoDir + "/model");
    m_tabs->setCurrentWidget(m_chat);
    m_chat->load();
    statusBar()->showMessage(tr("Demo: %1").arg(demoDir));
}

PredictWizard* MainWindow::openPredictWizard() {
    auto* wizard = new PredictWizard(m_engine, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    if (!m_demoDir.isEmpty()) wizard->setModel(m_demoDir + "/model", QString());
    wizard->show();
    return wizard;
}

}  // namespace tb::ui
