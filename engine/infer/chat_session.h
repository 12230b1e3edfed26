// A loaded model + tokenizer + template, ready to chat or complete: what the CLI's chat and
// generate, and the GUI's Chat tab, hold. Keeps the conversation history and the KV cache.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "infer/generator.h"
#include "infer/inference_args.h"
#include "tokenizer/chat_template.h"

namespace tb {

class ChatSession {
public:
    // unmerged_adapters: the adapter stays a LoRA beside the base weights (as with a quantized
    // base) instead of being merged, so without_adapters() can share the model.
    explicit ChatSession(const InferenceArgs& args, bool unmerged_adapters = false);
    // A session on the same loaded model with its adapters switched off: the base model's answers
    // next to the adapter's without a second copy in memory. Needs a session with unmerged adapters.
    std::unique_ptr<ChatSession> without_adapters() const;

    // One chat turn: renders history + query with the template, streams the reply, records it.
    GenerateResult reply(const std::string& query, const TextCallback& on_text = {},
                         const std::atomic<bool>* cancel = nullptr);
    // One turn of this session and of `base` (this session's without_adapters()) decoded together
    // in one batch: side 0 is this session's reply, side 1 the base model's, each after its own
    // history, both recorded; the same replies as reply() on each, in about the time of one.
    // on_text(side, delta) streams both; returning false ends that side.
    std::array<GenerateResult, 2> reply_beside(ChatSession& base, const std::string& query,
                                               const std::function<bool(int side, const std::string& delta)>& on_text = {},
                                               const std::atomic<bool>* cancel = nullptr);
    // A reply to `query` after the given history and system prompt (this session's own history is
    // neither used nor changed): what prediction over a dataset needs.
    GenerateResult answer(const std::vector<std::pair<std::string, std::string>>& history, const std::string& query,
                          const std::string& system, const std::atomic<bool>* cancel = nullptr);
    // Plain completion of `text` rendered through the template with no history.
    GenerateResult complete(const std::string& text, const TextCallback& on_text = {},
                            const std::atomic<bool>* cancel = nullptr);
    // Replies to many prompts (from prompt_ids) with continuous batching, up to `slots` decoding
    // at once; on_reply(index, result) as each finishes (any order), text stripped as complete()
    // strips it; returning false stops. False when cancelled.
    bool replies(const std::vector<std::vector<int64_t>>& prompts, int64_t slots,
                 const std::function<bool(size_t index, GenerateResult&& result)>& on_reply,
                 const std::atomic<bool>* cancel = nullptr);
    void clear() { history_.clear(); }

    // Prompt ids for a query given the current history (the tokenizer's prefix added when the
    // template does not start with it, so a base model still sees its BOS).
    std::vector<int64_t> prompt_ids(const std::string& query) const;
    std::vector<int64_t> prompt_ids(const std::vector<std::pair<std::string, std::string>>& history,
                                    const std::string& query, const std::string& system) const;

    const InferenceArgs& args() const { return args_; }
    const ChatTemplate& chat_template() const { return *template_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const Model& model() const { return *model_; }
    GenerationConfig& generation() { return args_.generation; }
    const std::vector<std::pair<std::string, std::string>>& history() const { return history_; }

private:
    ChatSession() = default;
    GenerateResult generate(const std::vector<int64_t>& prompt, const TextCallback& on_text,
                            const std::atomic<bool>* cancel);

    InferenceArgs args_;
    bool unmerged_adapters_ = false;
    std::shared_ptr<Model> model_;
    std::shared_ptr<Tokenizer> tokenizer_;
    const ChatTemplate* template_ = nullptr;
    std::unique_ptr<Generator> generator_;
    std::vector<int64_t> stop_ids_;
    std::vector<std::pair<std::string, std::string>> history_;
};

}  // namespace tb
