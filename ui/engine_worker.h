// EngineWorker: lives on the one engine thread and owns the engine objects (a chat session for
// now). Requests arrive as queued calls; results leave as signals carrying plain values.
#pragma once

#include <QObject>
#include <QString>
#include <QVariantMap>
#include <atomic>
#include <functional>
#include <memory>

#include "infer/inference_args.h"

namespace tb {
class ChatHandle;
}

namespace tb::ui {

// Which page's request a result or an error answers (failed() carries it).
enum class EngineJob { Chat, Train, Export, Predict, Evaluate, Analyze };

class EngineWorker : public QObject {
    Q_OBJECT
public:
    EngineWorker(std::atomic<bool>* cancel, std::atomic<int>* trainRequest);
    ~EngineWorker() override;

public Q_SLOTS:
    // Inference keys (model_name_or_path, adapter_name_or_path, template, device, system,
    // quantization_bit; empty values are left out). compareWithBase: also load the base alone.
    void loadChat(const QVariantMap& args, bool compareWithBase);
    void sendChat(const QString& query, double temperature, double topP, int maxNewTokens);
    void clearChat();
    // Runs a whole training (LLaMA-Factory keys → values); progress arrives as trainProgress.
    void train(const QVariantMap& args);
    // Merge + write (export keys → values), then reload and compare with base + adapter.
    void exportModel(const QVariantMap& args);
    // CSV batch prediction: keys csv, output, prompt_template, label_column + inference keys.
    void batchPredict(const QVariantMap& args);
    // The up-front time estimate of a training (reads the dataset, measures the device).
    void estimateTime(const QVariantMap& args);
    // Prediction over a dataset split with BLEU / ROUGE (eval/predict_dataset.h keys).
    void evaluate(const QVariantMap& args);
    // The weight study (eval/weight_analysis.h): model_name_or_path, adapter_name_or_path, device,
    // output_dir (weight_analysis.json and the SVG plots written there).
    void analyze(const QVariantMap& args);

Q_SIGNALS:
    void chatLoaded(const QString& summary);
    // side 0: the loaded model (with its adapter); side 1: the base model, when comparing
    void chatChunk(const QString& text, int side);
    void chatFinished(const QString& finishReason, qint64 tokens, double tokensPerSecond, int side);
    void failed(tb::ui::EngineJob job, const QString& message, const QString& hint);
    // keys: phase, message, step, total, epoch, loss, eval_loss, lr, grad_norm, tokens_per_s,
    // elapsed_s, eta_s, memory_bytes, is_log (loss/eval_loss/grad_norm < 0: not in this event)
    void trainProgress(const QVariantMap& progress);
    void trainFinished(const QString& summary, bool stoppedEarly);
    void exportStatus(const QString& message);
    void predictProgress(qint64 done, qint64 total, double etaSeconds, const QString& lastPrediction);
    void predictFinished(qint64 rows, qint64 resumedFrom, bool cancelled, double accuracy, double macroF1);
    void exportFinished(const QString& summary, bool verified, const QString& check);
    // keys seconds, steps, examples, tokens, tflops, device; or error and hint
    void timeEstimated(const QVariantMap& estimate);
    void evalProgress(qint64 done, qint64 total);
    // keys samples, resumed_from, cancelled, bleu_4, by_words, rouge_1, rouge_2, rouge_l (over jieba
    // words, as LLaMA-Factory; only when by_words), rouge_{1,2,l}_characters (0…100), note, output_dir,
    // worst (list of maps: index, prompt, predict, label, rouge_l, bleu_4)
    void evalFinished(const QVariantMap& report);
    // weight_analysis.json's text (the matrices, as the CLI writes them) and the folder written
    void analyzeFinished(const QString& json, const QString& outputDir);

private:
    void guarded(EngineJob job, const std::function<void()>& run);  // an engine error becomes failed(job, …)

    std::atomic<bool>* m_cancel;
    std::atomic<int>* m_trainRequest;
    std::unique_ptr<tb::ChatHandle> m_chat;
    std::unique_ptr<tb::ChatHandle> m_baseChat;  // only while comparing with the base model
    bool m_baseShared = false;  // m_baseChat is m_chat's model with the adapter off: one batch decodes both
};

}  // namespace tb::ui

Q_DECLARE_METATYPE(tb::ui::EngineJob)
