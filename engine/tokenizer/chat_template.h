// Chat templates as LLaMA-Factory v0.9.5 defines them (chatglm2 as v0.9.1 did; MODELS.md §3):
// prefix / system / user / assistant slots (and v0.9.1's separator before later user turns, for
// chatglm2); every string slot is tokenised separately. Also picks a model's
// template from its folder. No torch here.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tb {

class Tokenizer;
struct ModelConfig;

struct TemplateSlot {
    enum Kind { Text, Token, Bos, Eos } kind = Text;
    std::string text;  // Text: may hold {{content}} / {{idx}}; Token: the token string
};
using Slots = std::vector<TemplateSlot>;

struct ChatMessage {
    std::string role;  // "user" | "assistant"
    std::string content;
};

// LLaMA-Factory's switches of reasoning templates (its data arguments of the same names).
struct ThinkingOptions {
    bool enable_thinking = true;     // replies without a thought get an empty one, trained (false: in the prompt, not trained)
    bool preserve_thinking = false;  // keep the thoughts of earlier turns (false: removed)
};

struct ChatTemplate {
    std::string name;
    Slots prefix, system, user, assistant, separator;
    std::string default_system;
    std::vector<std::string> stop_words;
    bool efficient_eos = false;
    bool replace_eos = false;
    bool system_in_first_user = false;  // llama2: <<SYS>> block goes inside the first [INST]
    // ChatGLM-6B's own chat() (no LLaMA-Factory template; FORMATS.md §3.6): the conversation is one
    // prompt text — a lone query as it is, else each round through the user and assistant text
    // slots — tokenised at once, then prompt_suffix ([gMASK] <sop>); only the last reply is a target.
    bool one_prompt = false;
    Slots prompt_suffix;
    // ReasoningTemplate (qwen3): a reply's thought is thought_open … thought_close before its text
    std::string thought_open, thought_close;
    bool reasoning() const { return !thought_open.empty(); }

    static const ChatTemplate& get(const std::string& name);  // UnsupportedError listing names
    static std::vector<std::string> names();
};

// ids of each message (LLaMA-Factory Template._encode). Messages alternate user/assistant.
std::vector<std::vector<int64_t>> encode_messages(const ChatTemplate& t, const Tokenizer& tok,
                                                  const std::vector<ChatMessage>& messages,
                                                  const std::string& system);
// (source, target) id pairs of each round (encode_multiturn; a reasoning template's thoughts as
// ReasoningTemplate.encode_multiturn handles them, discard_history_thoughts being its
// discarding_history_cot).
std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> encode_multiturn(
    const ChatTemplate& t, const Tokenizer& tok, const std::vector<ChatMessage>& messages,
    const std::string& system, const ThinkingOptions& thinking = {}, bool discard_history_thoughts = false);
// Generation prompt: history rounds + the new user query, up to where the reply starts
// (encode_oneturn's prompt).
std::vector<int64_t> encode_prompt(const ChatTemplate& t, const Tokenizer& tok,
                                   const std::vector<std::pair<std::string, std::string>>& history,
                                   const std::string& query, const std::string& system,
                                   const ThinkingOptions& thinking = {});
// The template's eos id (its first stop word when replace_eos) and every id that ends a reply.
int64_t template_eos_id(const ChatTemplate& t, const Tokenizer& tok);
std::vector<int64_t> template_stop_ids(const ChatTemplate& t, const Tokenizer& tok);

// Template name for a model folder: chatglm2 / chatglm3 / llama2 / llama3 / qwen / qwen3, or empty for
// base models without a chat template. Logs why it chose.
std::string detect_template(const std::filesystem::path& folder, const ModelConfig& config,
                            const Tokenizer& tok);

}  // namespace tb
