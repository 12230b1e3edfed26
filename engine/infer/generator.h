// Autoregressive generation over a loaded model: prompt ids in, tokens streamed out as text
// through a callback (return false to stop), cancel flag, stop tokens and strings. Keeps its KV
// cache between calls and reuses the longest common prompt prefix (multi-turn chat).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "infer/generation_config.h"
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

using TextCallback = std::function<bool(const std::string& delta)>;

class Generator {
public:
    Generator(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer);

    GenerateResult generate(const std::vector<int64_t>& prompt, const GenerationConfig& config,
                            const std::vector<int64_t>& stop_ids, const TextCallback& on_text = {},
                            const std::atomic<bool>* cancel = nullptr);
    void reset() { cache_.clear(); cached_.clear(); }

    const Model& model() const { return *model_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }

private:
    std::shared_ptr<const Model> model_;
    std::shared_ptr<const Tokenizer> tokenizer_;
    KVCache cache_;
    std::vector<int64_t> cached_;  // ids whose keys/values are in cache_
};

}  // namespace tb
