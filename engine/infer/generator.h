// Autoregressive generation over a loaded model: prompt ids in, tokens streamed out as text
// through a callback (return false to stop), cancel flag, stop tokens and strings. A one-slot
// DecodeContext kept between calls reuses the longest common prompt prefix (multi-turn chat).
// generate_batch: many prompts with continuous batching over a context of several slots.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "infer/decode_context.h"
#include "infer/generation_config.h"
#include "infer/reply_text.h"
#include "model/decoder.h"
#include "tokenizer/tokenizer.h"

namespace tb {

struct GenerateResult {
    std::vector<int64_t> ids;   // generated ids (stop token excluded)
    std::string text;           // decoded reply, stop string excluded
    std::string finish_reason;  // "stop" | "length" | "cancelled"
    int64_t prompt_tokens = 0;
    int64_t reused_prompt_tokens = 0;
    double prefill_seconds = 0;
    double decode_seconds = 0;
    double tokens_per_second() const { return decode_seconds > 0 ? ids.size() / decode_seconds : 0; }
};

class Generator {
public:
    // adapters_off: unmerged LoRA weights stay loaded but are not applied (the base model's answers).
    Generator(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
              bool adapters_off = false);
    ~Generator();

    GenerateResult generate(const std::vector<int64_t>& prompt, const GenerationConfig& config,
                            const std::vector<int64_t>& stop_ids, const TextCallback& on_text = {},
                            const std::atomic<bool>* cancel = nullptr);
    void reset() {
        cached_.clear();
        for (auto& c : pair_cached_) c.clear();
    }
    // The tuned model's and the base model's replies decoded together, side 0 with the unmerged
    // adapters and side 1 without (the chat's comparison: both answers in about the time of one).
    // Each side samples as generate() would (seed config.seed) and reuses its own cached prompt
    // prefix between turns. on_text(side, delta) streams each side; returning false ends that side.
    std::array<GenerateResult, 2> generate_pair(const std::array<std::vector<int64_t>, 2>& prompts,
                                                const GenerationConfig& config, const std::vector<int64_t>& stop_ids,
                                                const std::function<bool(int side, const std::string& delta)>& on_text = {},
                                                const std::atomic<bool>* cancel = nullptr);
    // Replies to every prompt, up to `slots` decoding at once: a finished row's slot takes the next
    // prompt at once (continuous batching). on_reply(index, result) as each finishes, in any order;
    // returning false stops. Row i samples with seed config.seed + i, so a row's reply does not
    // depend on its neighbours. Returns false when cancelled.
    bool generate_batch(const std::vector<std::vector<int64_t>>& prompts, const GenerationConfig& config,
                        const std::vector<int64_t>& stop_ids, int64_t slots,
                        const std::function<bool(size_t index, GenerateResult&& result)>& on_reply,
                        const std::atomic<bool>* cancel = nullptr);

    const Model& model() const { return *model_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }

private:
    std::shared_ptr<const Model> model_;
    std::shared_ptr<const Tokenizer> tokenizer_;
    bool adapters_off_ = false;
    std::unique_ptr<DecodeContext> context_;  // one slot, for generate()
    std::vector<int64_t> cached_;  // ids whose keys/values are in context_
    std::unique_ptr<DecodeContext> pair_context_;  // two slots with adapters on / off, for generate_pair()
    std::array<std::vector<int64_t>, 2> pair_cached_;
};

}  // namespace tb
