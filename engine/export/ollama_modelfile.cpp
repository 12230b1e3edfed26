// The Go template is built from the template's own slots, so Ollama renders the same text that
// Tunebench tokenises: prefix once, the system slot when .System is set (inside the first user
// turn for llama2), the user and assistant slots per message, the separator before later user
// turns, the round number where the slot has {{idx}}. Token slots are written as their text:
// llama.cpp parses special tokens in a rendered prompt. No {{- trimming anywhere: the slots'
// newlines are part of the prompt.
#include "export/ollama_modelfile.h"
#include "core/replace_all.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tb {
namespace {

constexpr int kCountedRounds = 64;  // Go templates cannot add; round numbers come from a chain

// A literal inside a Go template: "{{" would open an action.
std::string literal(const std::string& text) { return replace_all(text, "{{", "{{ \"{{\" }}"); }

std::string token_text(const Tokenizer& tok, int64_t id) { return tok.id_to_token(id); }

// A text slot with its {{content}} and {{idx}} placeholders replaced by Go expressions.
std::string text_slot(const std::string& text, const std::string& content) {
    std::string out;
    size_t at = 0;
    while (at < text.size()) {
        const size_t c = text.find("{{content}}", at), i = text.find("{{idx}}", at), next = std::min(c, i);
        out += literal(text.substr(at, next - at));
        if (next == std::string::npos) break;
        out += next == c ? content : std::string("{{ $round }}");
        at = next + (next == c ? 11 : 7);
    }
    return out;
}

// `in_messages`: inside the message loop a BOS the runtime already put before the prompt is
// written only from the second user turn on; in the prefix it is left to the runtime.
// `dummy_prefix` (SentencePiece): Tunebench encodes each text slot on its own, so each begins
// with SentencePiece's "▁"; llama.cpp adds that space only at the start and after a special
// token. $sp carries the difference: a text slot that follows another text slot opens with a
// space.
std::string render(const Slots& slots, const std::string& content, const ChatTemplate& t, const Tokenizer& tok,
                   bool runtime_adds_bos, bool in_messages, bool dummy_prefix) {
    const std::string after_special = dummy_prefix ? "{{ $sp = \"\" }}" : "";
    std::string out;
    for (const auto& s : slots) {
        switch (s.kind) {
            case TemplateSlot::Text:
                out += dummy_prefix ? "{{ $sp }}" + text_slot(s.text, content) + "{{ $sp = \" \" }}" : text_slot(s.text, content);
                break;
            case TemplateSlot::Token: out += literal(s.text) + after_special; break;
            case TemplateSlot::Bos:
                if (!tok.bos_id) break;
                if (!runtime_adds_bos) out += literal(token_text(tok, *tok.bos_id)) + after_special;
                else if (in_messages)
                    out += "{{ if not $first }}" + literal(token_text(tok, *tok.bos_id)) + after_special + "{{ end }}";
                break;
            case TemplateSlot::Eos: out += literal(token_text(tok, template_eos_id(t, tok))) + after_special; break;
        }
    }
    return out;
}

std::string round_chain() {
    std::string s;
    for (int r = 0; r < kCountedRounds; ++r)
        s += std::string(r ? "{{ else if" : "{{ if") + " eq $round \"" + std::to_string(r) + "\" }}{{ $round = \"" +
             std::to_string(r + 1) + "\" }}";
    return s + "{{ end }}";
}

std::string go_template(const ChatTemplate& t, const Tokenizer& tok, bool runtime_adds_bos) {
    const bool dummy_prefix = tok.kind() != "bpe";
    auto slots = [&](const Slots& x, const std::string& content, bool in_messages) {
        return render(x, content, t, tok, runtime_adds_bos, in_messages, dummy_prefix);
    };
    std::string out = "{{ $first := true }}{{ $round := \"0\" }}{{ $sp := \"\" }}" + slots(t.prefix, "", false);
    std::string user_content = "{{ .Content }}";
    if (t.system_in_first_user) {  // llama2: the system block opens the first query
        const std::string sys = t.system.empty() ? std::string("{{content}}") : t.system[0].text;
        user_content = "{{ if and $first $.System }}" + text_slot(sys, "{{ $.System }}") + "{{ end }}{{ .Content }}";
    } else {
        out += "{{ if .System }}" + slots(t.system, "{{ .System }}", false) + "{{ end }}";
    }
    bool counts_rounds = false;
    for (const auto& s : t.user) counts_rounds = counts_rounds || s.text.find("{{idx}}") != std::string::npos;
    out += "{{ range .Messages }}{{ if eq .Role \"user\" }}";
    if (!t.separator.empty()) out += "{{ if not $first }}" + slots(t.separator, "", true) + "{{ end }}";
    out += slots(t.user, user_content, true) + "{{ $first = false }}";
    out += "{{ else if eq .Role \"assistant\" }}" + slots(t.assistant, "{{ .Content }}", true);
    if (counts_rounds) out += round_chain();
    out += "{{ end }}{{ end }}";
    return out;
}

// Modelfile strings are in """…"""; a value holding """ cannot be written.
std::string triple_quoted(const std::string& s, const std::string& what) {
    if (s.find("\"\"\"") != std::string::npos)
        throw UnsupportedError("the " + what + " contains \"\"\", which an Ollama Modelfile cannot quote", "");
    return "\"\"\"" + s + "\"\"\"";
}

}  // namespace

std::string ollama_modelfile(const std::string& gguf_file_name, const ChatTemplate& t, const Tokenizer& tok,
                             bool runtime_adds_bos, const std::vector<std::pair<std::string, std::string>>& parameters) {
    std::string m = "# Ollama: ollama create NAME -f Modelfile (in this folder); written by Tunebench with template '" +
                    t.name + "'\n";
    m += "FROM ./" + gguf_file_name + "\n";
    m += "TEMPLATE " + triple_quoted(go_template(t, tok, runtime_adds_bos), "template") + "\n";
    if (!t.default_system.empty()) m += "SYSTEM " + triple_quoted(t.default_system, "default system prompt") + "\n";
    // the template's stop words; the end-of-sequence token itself needs none (the GGUF names it)
    for (const auto& s : t.stop_words) m += "PARAMETER stop \"" + replace_all(replace_all(s, "\\", "\\\\"), "\"", "\\\"") + "\"\n";
    for (const auto& [name, value] : parameters) m += "PARAMETER " + name + " " + value + "\n";
    return m;
}

}  // namespace tb
