// A conversation → input_ids and labels exactly as LLaMA-Factory v0.9.5 builds them
// (processors/supervised.py, MODELS.md §3.4): per-round truncation by infer_seqlen, prompt
// labels -100 (or the eos trick of efficient_eos templates), optional mask_history and
// train_on_prompt. No torch here.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "data/dataset_registry.h"

namespace tb {
class Tokenizer;
}

namespace tb::data {

constexpr int64_t kIgnoreIndex = -100;

struct SftEncodeOptions {
    int64_t cutoff_len = 2048;
    bool train_on_prompt = false;
    bool mask_history = false;
    ThinkingOptions thinking;  // reasoning templates (qwen3)
};

struct EncodedExample {
    std::vector<int64_t> input_ids;
    std::vector<int64_t> labels;  // same length; kIgnoreIndex where no loss is taken
    // A packed row: the lengths of the examples in it, in order (empty: one example). Positions
    // restart at 0 for each (as LLaMA-Factory's packed position_ids do); with neat packing each
    // attends only within itself.
    std::vector<int64_t> segments;
    int64_t trained_tokens() const;
};

// (source length, target length) kept of a round with `cutoff` tokens left (infer_seqlen).
std::pair<int64_t, int64_t> infer_seqlen(int64_t source_len, int64_t target_len, int64_t cutoff);

EncodedExample encode_supervised(const Example& example, const ChatTemplate& t, const Tokenizer& tok,
                                 const SftEncodeOptions& options);

}  // namespace tb::data
