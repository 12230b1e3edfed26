// The decode loop: prefill (minus any cached prefix), then one token at a time.
#include "infer/generator.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "infer/sampler.h"

namespace tb {

Generator::Generator(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), cache_(model_->new_cache()) {}

namespace {
std::vector<float> last_row(const at::Tensor& logits) {
    auto row = logits.select(1, logits.size(1) - 1).select(0, 0).to(at::kCPU, at::kFloat).contiguous();
    return {row.data_ptr<float>(), row.data_ptr<float>() + row.numel()};
}
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

GenerateResult Generator::generate(const std::vector<int64_t>& prompt, const GenerationConfig& config,
                                   const std::vector<int64_t>& stop_ids, const TextCallback& on_text,
                                   const std::atomic<bool>* cancel) {
    config.validate();
    if (prompt.empty()) throw ConfigError("the prompt is empty", "give a prompt, or use a tokenizer that adds BOS");
    const int64_t V = model_->config().vocab_size;
    for (int64_t id : prompt) {
        if (id < 0 || id >= V) {
            throw ConfigError("prompt token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                                  std::to_string(V),
                              "the tokenizer does not belong to this model");
        }
    }
    c10::InferenceMode guard;
    GenerateResult r;
    r.prompt_tokens = static_cast<int64_t>(prompt.size());

    // Reuse the cached prefix; always recompute at least the last prompt token for its logits.
    size_t common = 0;
    while (common < cached_.size() && common < prompt.size() && cached_[common] == prompt[common]) ++common;
    common = std::min(common, prompt.size() - 1);
    cache_.rewind(static_cast<int64_t>(common));
    cached_.assign(prompt.begin(), prompt.begin() + common);
    r.reused_prompt_tokens = static_cast<int64_t>(common);

    auto opts = at::TensorOptions().dtype(at::kLong);
    auto t0 = Clock::now();
    std::vector<int64_t> rest(prompt.begin() + common, prompt.end());
    auto logits = model_->forward(at::tensor(rest, opts).unsqueeze(0), &cache_, {.last_only = true});
    cached_.insert(cached_.end(), rest.begin(), rest.end());
    std::vector<float> row = last_row(logits);
    r.prefill_seconds = since(t0);

    Sampler sampler(config);
    StreamDecoder stream(*tokenizer_);
    std::vector<int64_t> history = prompt;
    size_t max_stop = 0;
    for (const auto& s : config.stop_strings) max_stop = std::max(max_stop, s.size());
    std::string text, pending;  // pending: decoded but held back (could start a stop string)
    r.finish_reason = "length";
    auto t1 = Clock::now();
    auto emit = [&](const std::string& s) {
        if (s.empty()) return true;
        text += s;
        return on_text ? on_text(s) : true;
    };
    bool stopped = false;
    for (int64_t step = 0; step < config.max_new_tokens; ++step) {
        if (cancel && cancel->load()) {
            r.finish_reason = "cancelled";
            break;
        }
        int64_t next = sampler.next(row, history);
        if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) {
            r.finish_reason = "stop";
            break;
        }
        r.ids.push_back(next);
        history.push_back(next);
        pending += stream.push(next);
        if (max_stop > 0) {
            size_t hit = std::string::npos;
            for (const auto& s : config.stop_strings) hit = std::min(hit, pending.find(s));
            if (hit != std::string::npos) {
                emit(pending.substr(0, hit));
                pending.clear();
                r.finish_reason = "stop";
                stopped = true;
                break;
            }
            // Emit all but a tail that might begin a stop string (on a UTF-8 boundary).
            size_t cut = pending.size() > max_stop ? pending.size() - max_stop : 0;
            while (cut > 0 && (static_cast<unsigned char>(pending[cut]) & 0xC0) == 0x80) --cut;
            if (!emit(pending.substr(0, cut))) { r.finish_reason = "cancelled"; stopped = true; break; }
            pending.erase(0, cut);
        } else {
            if (!emit(pending)) { pending.clear(); r.finish_reason = "cancelled"; stopped = true; break; }
            pending.clear();
        }
        if (step + 1 == config.max_new_tokens) break;
        logits = model_->forward(at::tensor(std::vector<int64_t>{next}, opts).unsqueeze(0), &cache_, {.last_only = true});
        cached_.push_back(next);
        row = last_row(logits);
    }
    if (!stopped) {
        pending += stream.flush();
        emit(pending);
    }
    r.decode_seconds = since(t1);
    r.text = text;
    return r;
}

}  // namespace tb
