// The decode loops over a DecodeContext: one slot for chat (prefix reuse between turns), several
// for batches (continuous batching: a finished row's slot is refilled before the next step).
#include "infer/generator.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/device_memory.h"
#include "core/error.h"
#include "core/log.h"

namespace tb {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int64_t round_up(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

void check_prompt(const std::vector<int64_t>& prompt, int64_t vocab) {
    if (prompt.empty()) throw ConfigError("the prompt is empty", "give a prompt, or use a tokenizer that adds BOS");
    for (int64_t id : prompt) {
        if (id < 0 || id >= vocab) {
            throw ConfigError("prompt token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                                  std::to_string(vocab),
                              "the tokenizer does not belong to this model");
        }
    }
}

// Bytes the KV cache may take: most of what is free on the GPU after the weights, a quarter of
// the free RAM on the CPU (activations and the caller need the rest).
int64_t kv_budget(const Model& m) {
    const auto dev = m.device();
    if (dev.is_cuda()) {
        const std::string name = "cuda:" + std::to_string(dev.has_index() ? dev.index() : 0);
        return static_cast<int64_t>(0.6 * static_cast<double>(device_free_memory(name)));
    }
    return device_capacity("cpu").free / 4;
}

// Prompt tokens whose keys and values can stay in the cache: the common prefix with what it holds,
// less the last prompt token, which is always recomputed for its logits.
size_t reusable_prefix(const std::vector<int64_t>& cached, const std::vector<int64_t>& prompt) {
    size_t common = 0;
    while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) ++common;
    return std::min(common, prompt.size() - 1);
}

// One reply being decoded in a slot (generate_batch, generate_pair). take() applies the slot's new
// token as generate() does; when the reply ends there it is closed (reason, text, decode time) and
// take() returns false.
struct SlotReply {
    ReplyText reply;
    GenerateResult result;
    Clock::time_point started = Clock::now();

    bool take(int64_t token, bool stop, int64_t max_new_tokens, bool cache_full) {
        if (stop) return close("stop", true);
        result.ids.push_back(token);
        if (!reply.push(token)) return close(reply.finish_reason(), false);
        if (static_cast<int64_t>(result.ids.size()) >= max_new_tokens || cache_full) return close("length", true);
        return true;
    }
    bool close(const std::string& reason, bool flush) {
        if (flush) reply.flush();
        result.finish_reason = reason;
        result.text = reply.text();
        result.decode_seconds = since(started);
        return false;
    }
};

std::string gib(int64_t bytes) {
    char s[32];
    std::snprintf(s, sizeof s, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
    return s;
}
}  // namespace

Generator::Generator(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer, bool adapters_off)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), adapters_off_(adapters_off) {}

Generator::~Generator() = default;

GenerateResult Generator::generate(const std::vector<int64_t>& prompt, const GenerationConfig& config,
                                   const std::vector<int64_t>& stop_ids, const TextCallback& on_text,
                                   const std::atomic<bool>* cancel) {
    config.validate();
    check_prompt(prompt, model_->config().vocab_size);
    const int64_t need = static_cast<int64_t>(prompt.size()) + config.max_new_tokens;
    if (!context_ || context_->capacity() < need) {
        // allocated per conversation size, not per token: grows only when a turn does not fit
        context_.reset();
        context_ = std::make_unique<DecodeContext>(model_, config, stop_ids,
                                                   DecodeOptions{.slots = 1, .capacity = round_up(need, 256),
                                                                 .adapters_off = adapters_off_});
        cached_.clear();
    } else if (!context_->runs(config, stop_ids)) {
        context_->reconfigure(config, stop_ids);
    }
    GenerateResult r;
    r.prompt_tokens = static_cast<int64_t>(prompt.size());
    // ChatGLM-6B's prompt attends to itself both ways: nothing cached for another prompt is reusable
    const size_t common = model_->config().prefix_lm() ? 0 : reusable_prefix(cached_, prompt);
    r.reused_prompt_tokens = static_cast<int64_t>(common);

    auto t0 = Clock::now();
    int64_t token = context_->start(0, prompt, static_cast<int64_t>(common), config.seed);
    cached_ = prompt;
    bool stop = context_->is_stop(token);
    r.prefill_seconds = since(t0);

    ReplyText reply(*tokenizer_, config.stop_strings, on_text);
    r.finish_reason = "length";
    auto t1 = Clock::now();
    bool ended = false;  // by a stop string or the callback
    for (int64_t n = 0; n < config.max_new_tokens; ++n) {
        if (cancel && cancel->load()) {
            r.finish_reason = "cancelled";
            break;
        }
        if (stop) {
            r.finish_reason = "stop";
            break;
        }
        r.ids.push_back(token);
        if (!reply.push(token)) {
            r.finish_reason = reply.finish_reason();
            ended = true;
            break;
        }
        if (n + 1 == config.max_new_tokens || context_->length(0) >= context_->capacity()) break;
        const auto& s = context_->step();
        cached_.push_back(token);  // its keys and values are in the cache now
        token = s.ids[0];
        stop = s.stop[0] != 0;
    }
    context_->finish(0);
    if (!ended) reply.flush();
    r.decode_seconds = since(t1);
    r.text = reply.text();
    return r;
}

bool Generator::generate_batch(const std::vector<std::vector<int64_t>>& prompts, const GenerationConfig& config,
                               const std::vector<int64_t>& stop_ids, int64_t slots,
                               const std::function<bool(size_t, GenerateResult&&)>& on_reply,
                               const std::atomic<bool>* cancel) {
    config.validate();
    if (prompts.empty()) return true;
    int64_t longest = 0;
    for (const auto& p : prompts) {
        check_prompt(p, model_->config().vocab_size);
        longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
    }
    const int64_t capacity = round_up(longest + config.max_new_tokens, 16);
    const int64_t per_slot = StaticKVCache::bytes_per_slot(model_->config(), capacity, model_->dtype());
    const int64_t budget = kv_budget(*model_);
    int64_t fit = std::max<int64_t>(1, budget / std::max<int64_t>(per_slot, 1));
    if (per_slot > budget && budget > 0) {
        throw Error("one row's KV cache (" + std::to_string(capacity) + " positions) needs " + gib(per_slot) +
                                "; " + gib(budget) + " can be spared on " + model_->device().str(),
                            "lower max_new_tokens or shorten the longest prompt");
    }
    if (budget > 0 && fit < std::min<int64_t>(slots, static_cast<int64_t>(prompts.size()))) {
        log::info("decoding ", fit, " rows at a time, not ", slots, ": the KV cache of each needs ", gib(per_slot),
                  " and ", gib(budget), " can be spared");
    }
    slots = std::max<int64_t>(1, std::min({slots, static_cast<int64_t>(prompts.size()), budget > 0 ? fit : slots}));
    DecodeContext ctx(model_, config, stop_ids, {.slots = slots, .capacity = capacity, .adapters_off = adapters_off_});

    struct Row {
        size_t index;
        SlotReply r;
    };
    std::vector<std::optional<Row>> rows(slots);
    size_t next = 0;
    bool keep_going = true;

    // Takes the row's new token; when the row ends, hands its reply over and frees the slot.
    auto take = [&](int64_t slot, int64_t token, bool stop) {
        if (rows[slot]->r.take(token, stop, config.max_new_tokens, ctx.length(slot) >= capacity)) return true;
        ctx.finish(slot);
        const size_t index = rows[slot]->index;
        GenerateResult done = std::move(rows[slot]->r.result);
        rows[slot].reset();
        if (!on_reply(index, std::move(done))) keep_going = false;
        return false;
    };
    // Fills a free slot with the next prompt (again while rows end at their first token).
    auto admit = [&](int64_t slot) {
        while (keep_going && !rows[slot] && next < prompts.size()) {
            const size_t i = next++;
            rows[slot].emplace(Row{i, SlotReply{ReplyText(*tokenizer_, config.stop_strings)}});
            auto& result = rows[slot]->r.result;
            result.prompt_tokens = static_cast<int64_t>(prompts[i].size());
            auto t = Clock::now();
            const int64_t token = ctx.start(slot, prompts[i], 0, config.seed + i);
            result.prefill_seconds = since(t);
            rows[slot]->r.started = Clock::now();
            take(slot, token, ctx.is_stop(token));
        }
    };
    for (int64_t s = 0; s < slots; ++s) admit(s);
    while (keep_going) {
        if (cancel && cancel->load()) return false;
        bool any = false;
        for (const auto& r : rows) any = any || r.has_value();
        if (!any) break;
        const auto& step = ctx.step();
        for (int64_t s = 0; s < slots && keep_going; ++s) {
            if (!rows[s]) continue;
            if (!take(s, step.ids[s], step.stop[s] != 0)) admit(s);
        }
    }
    return !(cancel && cancel->load());
}

std::array<GenerateResult, 2> Generator::generate_pair(const std::array<std::vector<int64_t>, 2>& prompts,
                                                       const GenerationConfig& config,
                                                       const std::vector<int64_t>& stop_ids,
                                                       const std::function<bool(int, const std::string&)>& on_text,
                                                       const std::atomic<bool>* cancel) {
    config.validate();
    int64_t longest = 0;
    for (const auto& p : prompts) {
        check_prompt(p, model_->config().vocab_size);
        longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
    }
    const int64_t need = longest + config.max_new_tokens;
    if (!pair_context_ || pair_context_->capacity() < need) {
        pair_context_.reset();
        pair_context_ = std::make_unique<DecodeContext>(
            model_, config, stop_ids,
            DecodeOptions{.slots = 2, .capacity = round_up(need, 256), .per_slot_adapters = true});
        pair_context_->set_adapters(1, false);
        for (auto& c : pair_cached_) c.clear();
    } else if (!pair_context_->runs(config, stop_ids)) {
        pair_context_->reconfigure(config, stop_ids);
    }
    DecodeContext& ctx = *pair_context_;
    std::array<std::optional<SlotReply>, 2> side;
    std::array<GenerateResult, 2> r;
    // Takes a side's new token; when the side ends (its last token was never fed, so it is not in
    // the cache), its result is final.
    auto take = [&](int s, int64_t token, bool stop) {
        if (side[s]->take(token, stop, config.max_new_tokens, ctx.length(s) >= ctx.capacity())) return;
        ctx.finish(s);
        r[s] = std::move(side[s]->result);
        side[s].reset();
    };
    for (int s = 0; s < 2; ++s) {
        const auto& prompt = prompts[s];
        const size_t common = model_->config().prefix_lm() ? 0 : reusable_prefix(pair_cached_[s], prompt);
        TextCallback stream;
        if (on_text) stream = [&on_text, s](const std::string& d) { return on_text(s, d); };
        side[s].emplace(SlotReply{ReplyText(*tokenizer_, config.stop_strings, stream)});
        auto& result = side[s]->result;
        result.prompt_tokens = static_cast<int64_t>(prompt.size());
        result.reused_prompt_tokens = static_cast<int64_t>(common);
        auto t = Clock::now();
        const int64_t token = ctx.start(s, prompt, static_cast<int64_t>(common), config.seed);
        pair_cached_[s] = prompt;
        result.prefill_seconds = since(t);
        side[s]->started = Clock::now();
        take(s, token, ctx.is_stop(token));
    }
    while (side[0] || side[1]) {
        if (cancel && cancel->load()) {
            for (int s = 0; s < 2; ++s) {
                if (!side[s]) continue;
                side[s]->close("cancelled", true);
                ctx.finish(s);
                r[s] = std::move(side[s]->result);
                side[s].reset();
            }
            break;
        }
        const auto& step = ctx.step();
        for (int s = 0; s < 2; ++s) {
            if (!side[s]) continue;
            pair_cached_[s].push_back(side[s]->result.ids.back());  // fed by this step: in the cache now
            take(s, step.ids[s], step.stop[s] != 0);
        }
    }
    return r;
}

}  // namespace tb
