// Engine calls on the worker thread; every engine error becomes one failed() signal.
#include "engine_worker.h"
#include "error_text.h"

#include "arg_map.h"

#include <QElapsedTimer>

#include "core/error.h"
#include "infer/chat_handle.h"
#include "export/gguf_export.h"
#include "export/merge_export.h"
#include "infer/benchmark.h"
#include "infer/batch_predict.h"
#include "eval/predict_dataset.h"
#include "eval/weight_analysis.h"

#include <nlohmann/json.hpp>
#include "train/time_estimate.h"
#include "train/trainer.h"
#include "train/training_process.h"

namespace tb::ui {

EngineWorker::EngineWorker(std::atomic<bool>* cancel, std::atomic<int>* trainRequest)
    : m_cancel(cancel), m_trainRequest(trainRequest) {}
EngineWorker::~EngineWorker() = default;

void EngineWorker::guarded(EngineJob job, const std::function<void()>& run) {
    try {
        run();
    } catch (...) {
        const auto t = currentErrorText();
        Q_EMIT failed(job, t.message, t.hint);
    }
}

void EngineWorker::loadChat(const QVariantMap& args, bool compareWithBase) {
    guarded(EngineJob::Chat, [&] {
        ArgMap map = toArgMap(args, /*skipEmpty=*/true);
        const QString adapterDir = args.value("adapter_name_or_path").toString();
        m_chat.reset();
        m_baseChat.reset();
        m_baseShared = false;
        // Side by side: one model in memory, the adapter kept unmerged and switched off for the
        // base's answers; several adapters at once cannot stay unmerged, so the base loads again.
        const bool compare = compareWithBase && !adapterDir.isEmpty();
        const bool shareBase = compare && !adapterDir.contains(',');
        m_chat = std::make_unique<ChatHandle>(InferenceArgs::from_map(map), shareBase);
        if (shareBase) {
            m_baseChat = m_chat->without_adapters();
            m_baseShared = true;
        } else if (compare) {
            map.erase("adapter_name_or_path");
            m_baseChat = std::make_unique<ChatHandle>(InferenceArgs::from_map(map));
        }
        Q_EMIT chatLoaded(QString::fromStdString(m_chat->summary()) +
                          (adapterDir.isEmpty() ? QString() : tr(" + adapter %1").arg(adapterDir)));
    });
}

void EngineWorker::sendChat(const QString& query, double temperature, double topP, int maxNewTokens) {
    if (!m_chat) {
        Q_EMIT failed(EngineJob::Chat, tr("No model is loaded."), tr("Choose a model folder and click Load."));
        return;
    }
    guarded(EngineJob::Chat, [&] {
        GenerationConfig g;
        g.temperature = temperature;
        g.do_sample = temperature > 0;
        g.top_p = topP;
        g.max_new_tokens = maxNewTokens;
        // the controller resets the cancel flag when it queues the request
        // Chunks are batched to at most ~20 signals per second per side so the GUI stays responsive.
        QString pending[2];
        QElapsedTimer timer[2];
        timer[0].start();
        timer[1].start();
        auto stream = [&](int side, const std::string& d) {
            pending[side] += QString::fromStdString(d);
            if (timer[side].elapsed() >= 50) {
                Q_EMIT chatChunk(pending[side], side);
                pending[side].clear();
                timer[side].restart();
            }
            return true;
        };
        auto flush = [&](int side, const ChatReply& r) {
            if (!pending[side].isEmpty()) Q_EMIT chatChunk(pending[side], side);
            pending[side].clear();
            Q_EMIT chatFinished(QString::fromStdString(r.finish_reason), r.tokens, r.tokens_per_second, side);
        };
        m_chat->set_generation(g);
        if (m_baseChat && m_baseShared) {
            // one model in memory: both answers decoded together, in about the time of one
            m_baseChat->set_generation(g);
            const auto r = m_chat->reply_beside(*m_baseChat, query.toStdString(), stream, m_cancel);
            for (int side = 0; side < 2; ++side) {
                if (!pending[side].isEmpty()) Q_EMIT chatChunk(pending[side], side);
                pending[side].clear();
            }
            flush(0, r[0]);
            if (r[0].finish_reason == "cancelled") return;  // Stop ends the comparison: one finish, as below
            flush(1, r[1]);
            return;
        }
        int side = 0;
        for (ChatHandle* chat : {m_chat.get(), m_baseChat.get()}) {
            if (!chat) continue;
            chat->set_generation(g);
            const auto r = chat->reply(query.toStdString(), [&](const std::string& d) { return stream(side, d); }, m_cancel);
            flush(side, r);
            if (r.finish_reason == "cancelled") break;  // Stop ends the comparison too
            ++side;
        }
    });
}

void EngineWorker::clearChat() {
    if (m_chat) m_chat->clear();
    if (m_baseChat) m_baseChat->clear();
}

void EngineWorker::train(const QVariantMap& args) {
    guarded(EngineJob::Train, [&] {
        auto a = TrainingArgs::from_map(toArgMap(args));
        QElapsedTimer timer;
        timer.start();
        const auto progress = [&](const TrainProgress& p) {
            // logging steps, evaluations and phase changes always; other steps at most 10 per second
            if (p.phase == "training" && !p.is_log && timer.elapsed() < 100) return;
            timer.restart();
            Q_EMIT trainProgress({{"phase", QString::fromStdString(p.phase)}, {"message", QString::fromStdString(p.message)},
                                  {"step", qint64(p.step)}, {"total", qint64(p.total_steps)}, {"epoch", p.epoch},
                                  {"loss", p.loss}, {"eval_loss", p.eval_loss}, {"lr", p.learning_rate},
                                  {"grad_norm", p.grad_norm}, {"tokens_per_s", p.tokens_per_second},
                                  {"elapsed_s", p.elapsed_s}, {"eta_s", p.eta_s}, {"memory_bytes", qint64(p.memory_bytes)},
                                  {"is_log", p.is_log}});
        };
        // several GPUs: tunebench-cli runs the processes, this one follows the run's log
        auto r = a.nproc_per_node > 1 ? run_training_processes(a, find_cli_beside_this_program(), progress, m_trainRequest)
                                      : run_training(a, progress, m_trainRequest);
        Q_EMIT trainFinished(tr("%1 steps, train loss %2, saved to %3")
                                 .arg(r.global_step)
                                 .arg(r.train_loss, 0, 'f', 4)
                                 .arg(QString::fromStdString(r.output_dir)),
                             r.stopped_early);
    });
}

void EngineWorker::batchPredict(const QVariantMap& args) {
    guarded(EngineJob::Predict, [&] {
        BatchPredictOptions o;
        ArgMap inference = toArgMap(args, /*skipEmpty=*/true);
        auto take = [&](const char* key) {
            auto v = inference[key];
            inference.erase(key);
            return v;
        };
        o.csv = take("csv");
        o.output = take("output");
        o.prompt_template = take("prompt_template");
        o.label_column = take("label_column");
        o.inference = InferenceArgs::from_map(inference);
        QElapsedTimer timer;
        timer.start();
        auto r = run_batch_predict(o, [&](const BatchPredictProgress& p) {
            if (timer.elapsed() < 100 && p.done != p.total) return;  // at most ~10 updates per second
            timer.restart();
            Q_EMIT predictProgress(p.done, p.total, p.eta_s, QString::fromStdString(p.last_prediction));
        }, m_cancel);
        Q_EMIT predictFinished(r.rows, r.resumed_from, r.cancelled, r.accuracy, r.macro_f1);
    });
}

void EngineWorker::exportModel(const QVariantMap& args) {
    guarded(EngineJob::Export, [&] {
        ArgMap map = toArgMap(args);
        const bool compare = map["compare_after"] == "true";  // seed 004's table after the export
        map.erase("compare_after");
        auto a = ExportArgs::from_map(map);
        const auto compare_with = [&](const std::string& exported) {
            if (!compare) return;
            Q_EMIT exportStatus(tr("measuring base, base + adapter, merged, int8, NF4 and the export (bench --compare)…"));
            BenchOptions o;
            o.inference.model_name_or_path = a.model_name_or_path;
            o.inference.adapter_name_or_path = a.adapter_name_or_path;
            o.inference.device = "auto";
            o.batch_sizes = {1, 8};
            o.ttft_prompts = {};
            o.decode_prompt = 64;
            o.new_tokens = 32;
            Q_EMIT exportStatus(QString::fromStdString(bench_compare_table(run_bench_compare(o, {exported}))));
        };
        const auto status = [this](const std::string& s) { Q_EMIT exportStatus(QString::fromStdString(s)); };
        if (a.export_format == "gguf") {
            const auto r = export_gguf(a, status);
            Q_EMIT exportStatus(tr("checking the GGUF file against base + adapter…"));
            const auto c = verify_gguf_export(a, r.file, {"你好", "Hello, who are you?", "Tunebench 是什么？"});
            compare_with(r.file.string());
            Q_EMIT exportFinished(tr("%1, %2 tensors, %3 MB, %4 adapter modules merged")
                                      .arg(QString::fromStdString(r.file.string()))
                                      .arg(r.tensors)
                                      .arg(r.bytes / 1000000)
                                      .arg(r.merged_modules),
                                  c.ok,
                                  tr("read back; logits on %1 prompts differ from base + adapter by at most %2 (relative RMS "
                                     "%3, tolerance %4), greedy tokens agree at %5% of positions")
                                      .arg(c.prompts)
                                      .arg(c.max_abs_diff, 0, 'g', 3)
                                      .arg(c.relative_rms, 0, 'g', 3)
                                      .arg(c.tolerance, 0, 'g', 3)
                                      .arg(100.0 * c.greedy_agreement, 0, 'f', 1));
            return;
        }
        auto r = export_merged_model(a, status);
        Q_EMIT exportStatus(tr("checking the export against base + adapter…"));
        auto c = verify_export(a, {"你好", "Hello, who are you?", "Tunebench 是什么？"});
        compare_with(a.export_dir);
        Q_EMIT exportFinished(tr("%1 MB in %2 shard(s), %3, %4 adapter modules merged")
                                  .arg(r.total_bytes / 1000000)
                                  .arg(r.shards)
                                  .arg(QString::fromStdString(r.dtype))
                                  .arg(r.merged_modules),
                              c.ok,
                              tr("reloaded; logits on %1 prompts differ from base + adapter by at most %2 (tolerance %3)")
                                  .arg(c.prompts)
                                  .arg(c.max_abs_diff, 0, 'g', 3)
                                  .arg(c.tolerance, 0, 'g', 3));
    });
}

void EngineWorker::estimateTime(const QVariantMap& args) {
    QVariantMap out;
    try {
        const auto e = estimate_training_time(TrainingArgs::from_map(toArgMap(args)));
        out = {{"seconds", e.seconds}, {"steps", qint64(e.steps)}, {"examples", qint64(e.examples)}, {"tokens", e.tokens},
               {"tflops", e.device_flops / 1e12}, {"device", QString::fromStdString(e.device)}};
    } catch (...) {
        const auto t = currentErrorText();
        out = {{"error", t.message}, {"hint", t.hint}};
    }
    Q_EMIT timeEstimated(out);
}

void EngineWorker::evaluate(const QVariantMap& args) {
    guarded(EngineJob::Evaluate, [&] {
        ArgMap map = toArgMap(args, /*skipEmpty=*/true);
        const auto a = eval::DatasetPredictArgs::from_map(map);
        QElapsedTimer timer;
        timer.start();
        const auto r = eval::predict_dataset(a, [&](int64_t done, int64_t total) {
            if (timer.elapsed() < 100 && done != total) return;
            timer.restart();
            Q_EMIT evalProgress(done, total);
        }, m_cancel);
        QVariantList worst;
        const auto& sc = r.scores;
        for (const auto& w : sc.worst)
            worst.append(QVariantMap{{"index", qint64(w.index)}, {"prompt", QString::fromStdString(w.prompt)},
                                     {"predict", QString::fromStdString(w.predict)}, {"label", QString::fromStdString(w.label)},
                                     {"rouge_l", w.rougeL}, {"bleu_4", w.bleu4}});
        Q_EMIT evalFinished({{"samples", qint64(r.samples)}, {"resumed_from", qint64(r.resumed_from)}, {"cancelled", r.cancelled},
                             {"bleu_4", sc.mean.bleu4}, {"by_words", sc.by_words}, {"rouge_1", sc.mean.words.rouge1},
                             {"rouge_2", sc.mean.words.rouge2}, {"rouge_l", sc.mean.words.rougeL},
                             {"rouge_1_characters", sc.mean.characters.rouge1}, {"rouge_2_characters", sc.mean.characters.rouge2},
                             {"rouge_l_characters", sc.mean.characters.rougeL},
                             {"note", QString::fromStdString(sc.note)},
                             {"worst", worst}, {"output_dir", QString::fromStdString(a.output_dir)}});
    });
}

void EngineWorker::analyze(const QVariantMap& args) {
    guarded(EngineJob::Analyze, [&] {
        const ArgMap map = toArgMap(args, /*skipEmpty=*/true);
        WeightAnalysisOptions o;
        if (map.count("adapter_name_or_path")) o.adapter_dir = map.at("adapter_name_or_path");
        if (map.count("device")) o.device = map.at("device");
        const std::string out = map.count("output_dir") ? map.at("output_dir") : std::string();
        if (!out.empty()) check_weight_analysis_folder(out);
        const auto result = analyze_weights(map.at("model_name_or_path"), o);
        if (!out.empty()) write_weight_analysis(out, result);
        Q_EMIT analyzeFinished(QString::fromStdString(weight_analysis_json(result).dump()), QString::fromStdString(out));
    });
}

}  // namespace tb::ui
