// EngineWorker: lives on the one engine thread and owns the engine objects (a chat session for
// now). Requests arrive as queued calls; results leave as signals carrying plain values.
#pragma once

#include <QObject>
#include <QString>
#include <QVariantMap>
#include <atomic>
#include <memory>

#include "infer/inference_args.h"

namespace tb {
class ChatHandle;
}

namespace tb::ui {

class EngineWorker : public QObject {
    Q_OBJECT
public:
    EngineWorker(std::atomic<bool>* cancel, std::atomic<int>* trainRequest);
    ~EngineWorker() override;

public Q_SLOTS:
    void loadChat(const QString& modelDir, const QString& adapterDir, const QString& templateName, const QString& device,
                  const QString& system);
    void sendChat(const QString& query, double temperature, double topP, int maxNewTokens);
    void clearChat();
    // Runs a whole training (LLaMA-Factory keys → values); progress arrives as trainProgress.
    void train(const QVariantMap& args);
    // Merge + write (export keys → values), then reload and compare with base + adapter.
    void exportModel(const QVariantMap& args);
    // CSV batch prediction: keys csv, output, prompt_template, label_column + inference keys.
    void batchPredict(const QVariantMap& args);

Q_SIGNALS:
    void chatLoaded(const QString& summary);
    void chatChunk(const QString& text);
    void chatFinished(const QString& finishReason, qint64 tokens, double tokensPerSecond);
    void failed(const QString& message, const QString& hint);
    // keys: phase, message, step, total, epoch, loss, eval_loss, lr, grad_norm, tokens_per_s,
    // elapsed_s, eta_s, memory_bytes, is_log (loss/eval_loss/grad_norm < 0: not in this event)
    void trainProgress(const QVariantMap& progress);
    void trainFinished(const QString& summary, bool stoppedEarly);
    void exportStatus(const QString& message);
    void predictProgress(qint64 done, qint64 total, double etaSeconds, const QString& lastPrediction);
    void predictFinished(qint64 rows, qint64 resumedFrom, bool cancelled, double accuracy, double macroF1);
    void exportFinished(const QString& summary, bool verified, const QString& check);

private:
    std::atomic<bool>* m_cancel;
    std::atomic<int>* m_trainRequest;
    std::unique_ptr<tb::ChatHandle> m_chat;
};

}  // namespace tb::ui
