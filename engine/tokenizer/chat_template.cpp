// Template table and encoding. Strings are those of LLaMA-Factory v0.9.5 template.py (checked by
// tests/reference/test_sft_encoding.py); chatglm2, which v0.9.5 dropped, is v0.9.1's.
#include "tokenizer/chat_template.h"
#include "core/replace_all.h"

#include "model/arch/family.h"
#include "io/json_text.h"

#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "io/atomic_file.h"
#include "io/gguf_reader.h"
#include "model/gguf_layout.h"
#include "model/model_config.h"
#include "tokenizer/tokenizer.h"

namespace tb {
namespace {

TemplateSlot T(std::string s) { return {TemplateSlot::Text, std::move(s)}; }
TemplateSlot K(std::string s) { return {TemplateSlot::Token, std::move(s)}; }
const TemplateSlot kBos{TemplateSlot::Bos, {}};
const TemplateSlot kEos{TemplateSlot::Eos, {}};

std::map<std::string, ChatTemplate> build_table() {
    std::map<std::string, ChatTemplate> m;
    auto add = [&](ChatTemplate t) {
        if (t.user.empty()) t.user = {T("{{content}}")};
        if (t.system.empty()) t.system = {T("{{content}}")};
        if (t.assistant.empty()) {
            t.assistant = {T("{{content}}")};
            if (!t.efficient_eos) t.assistant.push_back(kEos);
        }
        m[t.name] = t;
    };
    {
        ChatTemplate t;
        t.name = "chatglm2";
        t.prefix = {K("[gMASK]"), K("sop")};
        t.user = {T("[Round {{idx}}]\n\n问：{{content}}\n\n答：")};
        t.separator = {T("\n\n")};
        t.efficient_eos = true;
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "chatglm6b";
        t.one_prompt = true;
        t.user = {T("[Round {{idx}}]\n问：{{content}}\n答：")};
        t.assistant = {T("{{content}}\n")};
        t.prompt_suffix = {K("[gMASK]"), K("<sop>")};
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "chatglm3";
        t.prefix = {K("[gMASK]"), K("sop")};
        t.system = {K("<|system|>"), T("\n"), T("{{content}}")};
        t.user = {K("<|user|>"), T("\n"), T("{{content}}"), K("<|assistant|>")};
        t.assistant = {T("\n"), T("{{content}}")};
        t.stop_words = {"<|user|>", "<|observation|>"};
        t.efficient_eos = true;
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "llama2";
        t.system = {T("<<SYS>>\n{{content}}\n<</SYS>>\n\n")};
        t.user = {kBos, T("[INST] {{content}} [/INST]")};
        t.system_in_first_user = true;
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "llama3";
        t.prefix = {kBos};
        t.system = {T("<|start_header_id|>system<|end_header_id|>\n\n{{content}}<|eot_id|>")};
        t.user = {T("<|start_header_id|>user<|end_header_id|>\n\n{{content}}<|eot_id|>"
                    "<|start_header_id|>assistant<|end_header_id|>\n\n")};
        t.stop_words = {"<|eot_id|>"};
        t.replace_eos = true;
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "qwen";
        t.system = {T("<|im_start|>system\n{{content}}<|im_end|>\n")};
        t.user = {T("<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n")};
        t.assistant = {T("{{content}}<|im_end|>\n")};
        t.default_system = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
        t.stop_words = {"<|im_end|>"};
        t.replace_eos = true;
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "glm4";
        t.prefix = {T("[gMASK]<sop>")};
        t.system = {T("<|system|>\n{{content}}")};
        t.user = {T("<|user|>\n{{content}}<|assistant|>")};
        t.assistant = {T("\n{{content}}")};
        t.stop_words = {"<|user|>", "<|observation|>"};
        t.efficient_eos = true;
        add(t);
    }
    for (const bool thinking : {true, false}) {  // qwen without its default system; qwen3 reasons
        ChatTemplate t = m.at("qwen");
        t.name = thinking ? "qwen3" : "qwen3_nothink";
        t.default_system.clear();
        if (thinking) {
            t.thought_open = "<think>\n";
            t.thought_close = "\n</think>\n\n";
        }
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "default";
        t.system = {T("System: {{content}}"), kEos, T("\n")};
        t.user = {T("Human: {{content}}"), kEos, T("\nAssistant:")};
        t.assistant = {T("{{content}}"), kEos, T("\n")};
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "alpaca";
        t.user = {T("### Instruction:\n{{content}}\n\n### Response:\n")};
        t.assistant = {T("{{content}}"), kEos, T("\n\n")};
        t.default_system =
            "Below is an instruction that describes a task. Write a response that appropriately "
            "completes the request.\n\n";
        add(t);
    }
    {
        ChatTemplate t;
        t.name = "empty";
        t.assistant = {T("{{content}}")};  // no eos at all, as LLaMA-Factory v0.9.5
        add(t);
    }
    return m;
}

const std::map<std::string, ChatTemplate>& table() {
    static const auto m = build_table();
    return m;
}

// Template.remove_thought: every thought_open … thought_close cut out, then leading newlines
std::string remove_thought(const ChatTemplate& t, const std::string& content) {
    std::string out;
    size_t p = 0;
    for (size_t a; (a = content.find(t.thought_open, p)) != std::string::npos;) {
        const size_t b = content.find(t.thought_close, a + t.thought_open.size());
        if (b == std::string::npos) break;
        out.append(content, p, a - p);
        p = b + t.thought_close.size();
    }
    out.append(content, p);
    return out.substr(std::min(out.find_first_not_of('\n'), out.size()));
}

// ReasoningTemplate: neither tag (stripped of its newlines) appears in the reply
bool lacks_thought(const ChatTemplate& t, const std::string& content) {
    auto strip = [](const std::string& s) {
        const size_t a = s.find_first_not_of(" \n"), b = s.find_last_not_of(" \n");
        return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    return content.find(strip(t.thought_open)) == std::string::npos && content.find(strip(t.thought_close)) == std::string::npos;
}

int64_t required_id(const Tokenizer& tok, const std::string& token, const std::string& tpl) {
    auto id = tok.token_to_id(token);
    if (!id) {
        throw ConfigError("template '" + tpl + "' needs the token " + token + ", which this tokenizer lacks",
                          "choose the template that matches the model (--template)");
    }
    return *id;
}

void append_slots(const ChatTemplate& t, const Tokenizer& tok, const Slots& slots, const std::string& content,
                  const std::string& idx, std::vector<int64_t>& out) {
    for (const auto& s : slots) {
        switch (s.kind) {
            case TemplateSlot::Text: {
                std::string text = replace_all(replace_all(s.text, "{{content}}", content), "{{idx}}", idx);
                if (!text.empty()) {
                    auto ids = tok.encode(text);
                    out.insert(out.end(), ids.begin(), ids.end());
                }
                break;
            }
            case TemplateSlot::Token: out.push_back(required_id(tok, s.text, t.name)); break;
            case TemplateSlot::Bos:
                if (tok.bos_id) out.push_back(*tok.bos_id);
                break;
            case TemplateSlot::Eos: out.push_back(template_eos_id(t, tok)); break;
        }
    }
}

// Messages alternate user and assistant, the user first.
void check_roles(const std::vector<ChatMessage>& messages) {
    for (size_t i = 0; i < messages.size(); ++i) {
        const bool is_user = i % 2 == 0;
        if (messages[i].role != (is_user ? "user" : "assistant")) {
            throw ConfigError("message " + std::to_string(i + 1) + " has role '" + messages[i].role + "' but should be '" +
                                  (is_user ? "user" : "assistant") + "'",
                              "conversations alternate user and assistant turns, starting with the user");
        }
    }
}

// A one_prompt template's prompt: the text of the rounds (a lone query as it is), then the suffix
std::vector<int64_t> one_prompt_ids(const ChatTemplate& t, const Tokenizer& tok,
                                    const std::vector<std::pair<std::string, std::string>>& history,
                                    const std::string& query, const std::string& system) {
    auto slot = [](const Slots& s, const std::string& content, size_t idx) {
        return replace_all(replace_all(s.at(0).text, "{{content}}", content), "{{idx}}", std::to_string(idx));
    };
    std::string text = system.empty() ? std::string() : system + "\n";
    if (history.empty()) {
        text += query;
    } else {
        for (size_t i = 0; i < history.size(); ++i) text += slot(t.user, history[i].first, i) + slot(t.assistant, history[i].second, i);
        text += slot(t.user, query, history.size());
    }
    auto ids = tok.encode(text);
    append_slots(t, tok, t.prompt_suffix, "", "", ids);
    return ids;
}

}  // namespace

const ChatTemplate& ChatTemplate::get(const std::string& name) {
    auto it = table().find(name);
    if (it == table().end()) {
        std::string all;
        for (const auto& n : names()) all += (all.empty() ? "" : ", ") + n;
        throw UnsupportedError("unknown template '" + name + "'", "available templates: " + all);
    }
    return it->second;
}

std::vector<std::string> ChatTemplate::names() {
    std::vector<std::string> n;
    for (const auto& [k, _] : table()) n.push_back(k);
    return n;
}

int64_t template_eos_id(const ChatTemplate& t, const Tokenizer& tok) {
    if (t.replace_eos && !t.stop_words.empty()) return required_id(tok, t.stop_words[0], t.name);
    if (!tok.eos_id) {
        throw ConfigError("the tokenizer defines no eos token and template '" + t.name + "' needs one",
                          "set eos_token in tokenizer_config.json");
    }
    return *tok.eos_id;
}

std::vector<int64_t> template_stop_ids(const ChatTemplate& t, const Tokenizer& tok) {
    std::vector<int64_t> ids;
    if (tok.eos_id) ids.push_back(*tok.eos_id);
    for (const auto& w : t.stop_words)
        if (auto id = tok.token_to_id(w)) ids.push_back(*id);
    return ids;
}

std::vector<std::vector<int64_t>> encode_messages(const ChatTemplate& t, const Tokenizer& tok,
                                                  const std::vector<ChatMessage>& messages,
                                                  const std::string& given_system) {
    check_roles(messages);
    const std::string system = given_system.empty() ? t.default_system : given_system;
    std::vector<std::vector<int64_t>> out;
    for (size_t i = 0; i < messages.size(); ++i) {
        const auto& msg = messages[i];
        const bool is_user = i % 2 == 0;
        std::vector<int64_t> ids;
        std::string content = msg.content;
        if (i == 0) {
            append_slots(t, tok, t.prefix, "", "", ids);
            if (!system.empty()) {
                if (t.system_in_first_user) {
                    // the system slot is plain text here; it is prepended to the first query
                    std::string sys = t.system[0].text;
                    content = replace_all(sys, "{{content}}", system) + content;
                } else {
                    append_slots(t, tok, t.system, system, "", ids);
                }
            }
        } else if (is_user) {
            append_slots(t, tok, t.separator, "", "", ids);
        }
        append_slots(t, tok, is_user ? t.user : t.assistant, content, std::to_string(i / 2), ids);
        out.push_back(std::move(ids));
    }
    return out;
}

std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> encode_multiturn(
    const ChatTemplate& t, const Tokenizer& tok, const std::vector<ChatMessage>& given,
    const std::string& system, const ThinkingOptions& thinking, bool discard_history_thoughts) {
    std::vector<ChatMessage> messages = given;
    const size_t n = messages.size();
    if (t.one_prompt) {  // one pair: the earlier rounds are prompt text, the last reply the target
        check_roles(messages);
        const size_t m = n - n % 2;                 // complete rounds only, as pairs are made below
        if (m < 2) return {};
        std::vector<std::pair<std::string, std::string>> history;
        for (size_t i = 0; i + 2 < m; i += 2) history.emplace_back(messages[i].content, messages[i + 1].content);
        auto target = tok.encode(messages[m - 1].content);
        target.push_back(template_eos_id(t, tok));
        return {{one_prompt_ids(t, tok, history, messages[m - 2].content, system), target}};
    }
    if (t.reasoning()) {
        for (size_t i = 1; i < n; i += 2)
            if (!thinking.enable_thinking || (discard_history_thoughts && i + 2 < n))
                messages[i].content = remove_thought(t, messages[i].content);
    }
    auto enc = encode_messages(t, tok, messages, system);
    if (t.reasoning()) {  // an empty thought where a reply has none: trained, or in the prompt
        const auto empty = tok.encode(t.thought_open + t.thought_close);
        for (size_t i = discard_history_thoughts && n >= 2 ? n - 2 : 0; i + 1 < n; i += 2) {
            if (!lacks_thought(t, messages[i + 1].content)) continue;
            if (thinking.enable_thinking) enc[i + 1].insert(enc[i + 1].begin(), empty.begin(), empty.end());
            else enc[i].insert(enc[i].end(), empty.begin(), empty.end());
        }
    }
    std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> pairs;
    for (size_t i = 0; i + 1 < enc.size(); i += 2) pairs.emplace_back(enc[i], enc[i + 1]);
    return pairs;
}

std::vector<int64_t> encode_prompt(const ChatTemplate& t, const Tokenizer& tok,
                                   const std::vector<std::pair<std::string, std::string>>& history,
                                   const std::string& query, const std::string& system, const ThinkingOptions& thinking) {
    if (t.one_prompt) return one_prompt_ids(t, tok, history, query, system);
    std::vector<ChatMessage> msgs;
    for (const auto& [q, a] : history) {
        msgs.push_back({"user", q});
        // ReasoningTemplate.encode_oneturn: earlier thoughts removed unless preserved
        msgs.push_back({"assistant", t.reasoning() && !thinking.preserve_thinking ? remove_thought(t, a) : a});
    }
    msgs.push_back({"user", query});
    std::vector<int64_t> ids;
    for (auto& m : encode_messages(t, tok, msgs, system)) ids.insert(ids.end(), m.begin(), m.end());
    if (t.reasoning() && !thinking.enable_thinking) {  // the reply starts after an empty thought
        const auto empty = tok.encode(t.thought_open + t.thought_close);
        ids.insert(ids.end(), empty.begin(), empty.end());
    }
    return ids;
}

std::string detect_template(const std::filesystem::path& folder, const ModelConfig& config, const Tokenizer& tok) {
    std::string chat_template;
    if (std::filesystem::exists(folder / "tokenizer_config.json")) {
        try {
            auto j = io::parse_json(io::read_file(folder / "tokenizer_config.json"), (folder / "tokenizer_config.json").string());
            if (j.contains("chat_template") && j["chat_template"].is_string()) chat_template = j["chat_template"];
        } catch (const nlohmann::json::exception&) {
        }
    } else if (const auto gguf = gguf_model_file(folder)) {  // a GGUF carries its template in its metadata
        chat_template = io::GgufReader(*gguf).value("tokenizer.chat_template");
    }
    const std::string chosen = family_of(config.arch).chat_template(config, tok, chat_template);
    log::info("template: ", chosen, " (detected from ", folder.string(), "; override with --template)");
    return chosen;
}

}  // namespace tb
