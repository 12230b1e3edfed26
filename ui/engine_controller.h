// EngineController: the GUI thread's handle on the engine thread. Owns the QThread and the
// worker, forwards requests as queued calls, and holds the cancel flag the engine polls.
#pragma once

#include <QObject>
#include <QThread>
#include <atomic>

#include "engine_worker.h"

namespace tb::ui {

class EngineController : public QObject {
    Q_OBJECT
public:
    explicit EngineController(QObject* parent = nullptr);
    ~EngineController() override;

    EngineWorker* worker() const { return m_worker; }
    void requestLoadChat(const QVariantMap& args, bool compareWithBase = false);
    void requestChat(const QString& query, double temperature, double topP, int maxNewTokens);
    void requestClearChat();
    void requestStop() { m_cancel.store(true); }
    void requestTrain(const QVariantMap& args);
    void requestExport(const QVariantMap& args);
    void requestTimeEstimate(const QVariantMap& args);
    void requestEvaluate(const QVariantMap& args);  // requestStop() stops it after the current example
    void requestBatchPredict(const QVariantMap& args);  // requestStop() stops it after the current row
    void requestAnalyze(const QVariantMap& args);
    // Stop & save (keeps a checkpoint and the adapter) or cancel (nothing more is written).
    void requestTrainStop(bool cancel) { m_trainRequest.store(cancel ? 2 : 1); }
    // A training occupies the engine until it ends: requests of other pages wait behind it.
    bool isTraining() const { return m_training; }

private:
    QThread m_thread;
    std::atomic<bool> m_cancel{false};
    std::atomic<int> m_trainRequest{0};
    bool m_training = false;
    EngineWorker* m_worker;
};

}  // namespace tb::ui
