// Line-by-line port of processor/supervised.py _encode_data_example (LLaMA-Factory v0.9.5).
#include "data/sft_encoding.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tb::data {

int64_t EncodedExample::trained_tokens() const {
    return std::count_if(labels.begin(), labels.end(), [](int64_t l) { return l != kIgnoreIndex; });
}

std::pair<int64_t, int64_t> infer_seqlen(int64_t S, int64_t T, int64_t C) {
    int64_t max_target;
    if (2 * T < C) max_target = C;
    else if (2 * S < C) max_target = C - S;
    else max_target = static_cast<int64_t>(static_cast<double>(C) * T / (S + T));  // int() truncates
    const int64_t t = std::min(max_target, T);
    const int64_t s = std::min(std::max(C - t, int64_t{0}), S);
    return {s, t};
}

EncodedExample encode_supervised(const Example& ex, const ChatTemplate& t, const Tokenizer& tok,
                                 const SftEncodeOptions& o) {
    if (o.train_on_prompt && t.efficient_eos) {
        throw ConfigError("train_on_prompt cannot be used with template '" + t.name + "' (efficient_eos)",
                          "LLaMA-Factory rejects this combination too; set train_on_prompt: false");
    }
    const int64_t eos = template_eos_id(t, tok);
    // A message far longer than cutoff_len can hold (a 50 MB cell) is cut before tokenizing: no
    // token is near 64 bytes, so the first cutoff_len tokens are those of the whole text, and
    // tokenizing the rest would only cost time and memory.
    const size_t max_bytes = static_cast<size_t>(std::max<int64_t>(o.cutoff_len, 1)) * 64 + 1024;
    std::vector<ChatMessage> messages = ex.messages;
    for (auto& m : messages) {
        if (m.content.size() <= max_bytes) continue;
        size_t cut = max_bytes;
        while (cut > 0 && (static_cast<unsigned char>(m.content[cut]) & 0xC0) == 0x80) --cut;  // a whole character
        m.content.resize(cut);
    }
    // supervised.py: with mask_history only the last reply keeps its thought, unless preserved
    auto pairs = encode_multiturn(t, tok, messages, ex.system, o.thinking, o.mask_history && !o.thinking.preserve_thinking);
    if (o.mask_history) std::reverse(pairs.begin(), pairs.end());
    EncodedExample out;
    int64_t total = t.efficient_eos ? 1 : 0;
    for (size_t turn = 0; turn < pairs.size(); ++turn) {
        if (total >= o.cutoff_len) break;
        auto& [source, target] = pairs[turn];
        auto [s_len, t_len] = infer_seqlen(static_cast<int64_t>(source.size()), static_cast<int64_t>(target.size()),
                                           o.cutoff_len - total);
        const size_t keep_tail = t.one_prompt ? t.prompt_suffix.size() : 0;  // ChatGLM-6B's [gMASK] <sop> stay
        if (keep_tail && s_len < static_cast<int64_t>(source.size()) && s_len >= static_cast<int64_t>(keep_tail))
            source.erase(source.begin() + (s_len - static_cast<int64_t>(keep_tail)), source.end() - static_cast<int64_t>(keep_tail));
        source.resize(s_len);
        target.resize(t_len);
        total += s_len + t_len;
        std::vector<int64_t> source_labels;
        if (o.train_on_prompt) source_labels = source;
        else if (t.efficient_eos && turn != 0 && s_len > 0) {  // v0.9.5: not on the first pair
            source_labels.assign(s_len, kIgnoreIndex);
            source_labels[0] = eos;
        } else source_labels.assign(s_len, kIgnoreIndex);
        std::vector<int64_t> target_labels = target;
        if (o.mask_history && turn != 0) target_labels.assign(t_len, kIgnoreIndex);  // reversed: 0 = last
        if (o.mask_history) {
            out.input_ids.insert(out.input_ids.begin(), target.begin(), target.end());
            out.input_ids.insert(out.input_ids.begin(), source.begin(), source.end());
            out.labels.insert(out.labels.begin(), target_labels.begin(), target_labels.end());
            out.labels.insert(out.labels.begin(), source_labels.begin(), source_labels.end());
        } else {
            out.input_ids.insert(out.input_ids.end(), source.begin(), source.end());
            out.input_ids.insert(out.input_ids.end(), target.begin(), target.end());
            out.labels.insert(out.labels.end(), source_labels.begin(), source_labels.end());
            out.labels.insert(out.labels.end(), target_labels.begin(), target_labels.end());
        }
    }
    if (t.efficient_eos) {
        out.input_ids.push_back(eos);
        out.labels.push_back(eos);
    }
    return out;
}

}  // namespace tb::data
