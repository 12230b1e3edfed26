// Engine calls on the worker thread; every engine error becomes one failed() signal.
#include "engine_worker.h"

#include <QElapsedTimer>

#include "core/error.h"
#include "infer/chat_handle.h"

namespace tb::ui {

EngineWorker::EngineWorker(std::atomic<bool>* cancel) : m_cancel(cancel) {}
EngineWorker::~EngineWorker() = default;

void EngineWorker::loadChat(const QString& modelDir, const QString& templateName, const QString& device,
                            const QString& system) {
    try {
        ArgMap map{{"model_name_or_path", modelDir.toStdString()}, {"device", device.toStdString()}};
        if (!templateName.isEmpty()) map["template"] = templateName.toStdString();
        if (!system.isEmpty()) map["system"] = system.toStdString();
        m_chat.reset();
        m_chat = std::make_unique<ChatHandle>(InferenceArgs::from_map(map));
        Q_EMIT chatLoaded(QString::fromStdString(m_chat->summary()));
    } catch (const tb::Error& e) {
        Q_EMIT failed(QString::fromStdString(e.what()), QString::fromStdString(e.hint()));
    } catch (const std::exception& e) {
        Q_EMIT failed(QString::fromUtf8(e.what()), {});
    }
}

void EngineWorker::sendChat(const QString& query, double temperature, double topP, int maxNewTokens) {
    if (!m_chat) {
        Q_EMIT failed(tr("No model is loaded."), tr("Choose a model folder and click Load."));
        return;
    }
    try {
        GenerationConfig g;
        g.temperature = temperature;
        g.do_sample = temperature > 0;
        g.top_p = topP;
        g.max_new_tokens = maxNewTokens;
        m_chat->set_generation(g);  // the controller resets the cancel flag when it queues the request
        // Chunks are batched to at most ~20 signals per second so the GUI stays responsive.
        QString pending;
        QElapsedTimer timer;
        timer.start();
        auto r = m_chat->reply(query.toStdString(), [&](const std::string& d) {
            pending += QString::fromStdString(d);
            if (timer.elapsed() >= 50) {
                Q_EMIT chatChunk(pending);
                pending.clear();
                timer.restart();
            }
            return true;
        }, m_cancel);
        if (!pending.isEmpty()) Q_EMIT chatChunk(pending);
        Q_EMIT chatFinished(QString::fromStdString(r.finish_reason), r.tokens, r.tokens_per_second);
    } catch (const tb::Error& e) {
        Q_EMIT failed(QString::fromStdString(e.what()), QString::fromStdString(e.hint()));
    } catch (const std::exception& e) {
        Q_EMIT failed(QString::fromUtf8(e.what()), {});
    }
}

void EngineWorker::clearChat() {
    if (m_chat) m_chat->clear();
}

}  // namespace tb::ui
