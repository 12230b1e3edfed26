// The Ollama `Modelfile` written beside a GGUF export: FROM the file, the chat template as a Go
// text/template over Ollama's .System and .Messages that renders exactly the prompt Tunebench
// (LLaMA-Factory's template) builds, the default system prompt, and the stop words.
// No torch here.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tb {

struct ChatTemplate;
class Tokenizer;

// `runtime_adds_bos`: the GGUF says add_bos_token, so llama.cpp/Ollama put BOS before the
// rendered text themselves and the template must not repeat it. `parameters`: further PARAMETER
// lines (the model's sampling defaults).
std::string ollama_modelfile(const std::string& gguf_file_name, const ChatTemplate& t, const Tokenizer& tok,
                             bool runtime_adds_bos, const std::vector<std::pair<std::string, std::string>>& parameters = {});

}  // namespace tb
