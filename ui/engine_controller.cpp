// Thread setup and queued requests.
#include "engine_controller.h"

namespace tb::ui {

EngineController::EngineController(QObject* parent) : QObject(parent), m_worker(new EngineWorker(&m_cancel, &m_trainRequest)) {
    m_thread.setObjectName("tunebench-engine");
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
    connect(m_worker, &EngineWorker::trainFinished, this, [this] { m_training = false; });
    connect(m_worker, &EngineWorker::failed, this, [this](EngineJob job) {
        if (job == EngineJob::Train) m_training = false;
    });
}

EngineController::~EngineController() {
    m_cancel.store(true);
    m_trainRequest.store(2);  // a running training is cancelled, not waited for
    m_thread.quit();
    m_thread.wait();
}

void EngineController::requestLoadChat(const QVariantMap& args, bool compareWithBase) {
    QMetaObject::invokeMethod(m_worker, "loadChat", Qt::QueuedConnection, Q_ARG(QVariantMap, args), Q_ARG(bool, compareWithBase));
}

void EngineController::requestChat(const QString& query, double temperature, double topP, int maxNewTokens) {
    m_cancel.store(false);
    QMetaObject::invokeMethod(m_worker, "sendChat", Qt::QueuedConnection, Q_ARG(QString, query),
                              Q_ARG(double, temperature), Q_ARG(double, topP), Q_ARG(int, maxNewTokens));
}

void EngineController::requestTrain(const QVariantMap& args) {
    m_trainRequest.store(0);
    m_training = true;
    QMetaObject::invokeMethod(m_worker, "train", Qt::QueuedConnection, Q_ARG(QVariantMap, args));
}

void EngineController::requestBatchPredict(const QVariantMap& args) {
    m_cancel.store(false);
    QMetaObject::invokeMethod(m_worker, "batchPredict", Qt::QueuedConnection, Q_ARG(QVariantMap, args));
}

void EngineController::requestExport(const QVariantMap& args) {
    QMetaObject::invokeMethod(m_worker, "exportModel", Qt::QueuedConnection, Q_ARG(QVariantMap, args));
}

void EngineController::requestTimeEstimate(const QVariantMap& args) {
    QMetaObject::invokeMethod(m_worker, "estimateTime", Qt::QueuedConnection, Q_ARG(QVariantMap, args));
}

void EngineController::requestEvaluate(const QVariantMap& args) {
    m_cancel.store(false);
    QMetaObject::invokeMethod(m_worker, "evaluate", Qt::QueuedConnection, Q_ARG(QVariantMap, args));
}

void EngineController::requestAnalyze(const QVariantMap& args) {
    QMetaObject::invokeMethod(m_worker, "analyze", Qt::QueuedConnection, Q_ARG(QVariantMap, args));
}

void EngineController::requestClearChat() { QMetaObject::invokeMethod(m_worker, "clearChat", Qt::QueuedConnection); }

}  // namespace tb::ui
