// EngineWorker: lives on the one engine thread and owns the engine objects (a chat session for
// now). Requests arrive as queued calls; results leave as signals carrying plain values.
#pragma once

#include <QObject>
#include <QString>
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
    explicit EngineWorker(std::atomic<bool>* cancel);
    ~EngineWorker() override;

public Q_SLOTS:
    void loadChat(const QString& modelDir, const QString& templateName, const QString& device, const QString& system);
    void sendChat(const QString& query, double temperature, double topP, int maxNewTokens);
    void clearChat();

Q_SIGNALS:
    void chatLoaded(const QString& summary);
    void chatChunk(const QString& text);
    void chatFinished(const QString& finishReason, qint64 tokens, double tokensPerSecond);
    void failed(const QString& message, const QString& hint);

private:
    std::atomic<bool>* m_cancel;
    std::unique_ptr<tb::ChatHandle> m_chat;
};

}  // namespace tb::ui
