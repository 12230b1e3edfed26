// Loading and the turn logic of a chat session.
#include "infer/chat_session.h"

#include "core/error.h"
#include "adapters/lora_adapter.h"
#include "core/log.h"
#include "core/string_list.h"

namespace tb {

ChatSession::ChatSession(const InferenceArgs& args, bool unmerged_adapters)
    : args_(args), unmerged_adapters_(unmerged_adapters || args.quantization_bit) {
    // a model folder, or a GGUF file (Tunebench's own export, a llama.cpp model)
    const std::filesystem::path path = args.model_name_or_path;
    const bool gguf_file = std::filesystem::is_regular_file(path) && path.extension() == ".gguf";
    if (!std::filesystem::is_directory(path) && !gguf_file) {
        const std::string hint = "model_name_or_path must be a local model folder (Hugging Face layout) or a .gguf file";
        if (!std::filesystem::exists(path)) throw FileError("model " + path.string() + " does not exist", hint);
        throw FileError("model " + path.string() + " is neither a folder nor a .gguf file", hint);
    }
    model_ = Model::load(path, {.dtype = args.dtype, .device = args.device, .quantization_bit = args.quantization_bit,
                                  .flash_attn = args.flash_attn});
    tokenizer_ = load_tokenizer(path, &model_->config());
    if (unmerged_adapters_ && args.adapter_name_or_path.find(',') != std::string::npos) {
        throw UnsupportedError(std::string("several adapters ") +
                                   (args.quantization_bit ? "on a quantized base" : "kept beside the base") +
                                   " are not supported",
                               "merge them first with export");
    }
    // LLaMA-Factory accepts a comma list of adapters, merged in order.
    for (const auto& one : split_comma_list(args.adapter_name_or_path)) {
        if (unmerged_adapters_) load_lora(*model_, one);  // beside the base: quantized, or to be switched off
        else merge_lora_adapter(*model_, one);
    }
    std::string name = args.template_name.empty() ? detect_template(path, model_->config(), *tokenizer_)
                                                   : args.template_name;
    template_ = &ChatTemplate::get(name);
    stop_ids_ = template_stop_ids(*template_, *tokenizer_);
    stop_ids_.push_back(template_eos_id(*template_, *tokenizer_));
    for (int64_t id : model_->config().eos_token_ids) stop_ids_.push_back(id);
    for (int64_t id : args.generation.stop_ids) stop_ids_.push_back(id);
    generator_ = std::make_unique<Generator>(model_, tokenizer_);
    log::info("model: ", arch_name(model_->config().arch), ", ", model_->config().parameter_count(),
              " parameters, ", c10::toString(model_->dtype()), " on ", model_->device().str());
}

std::unique_ptr<ChatSession> ChatSession::without_adapters() const {
    if (!unmerged_adapters_ && !args_.adapter_name_or_path.empty())
        throw Error("the adapter of this chat is merged into the model, so it cannot be switched off");
    std::unique_ptr<ChatSession> s(new ChatSession());
    s->args_ = args_;
    s->args_.adapter_name_or_path.clear();
    s->model_ = model_;
    s->tokenizer_ = tokenizer_;
    s->template_ = template_;
    s->stop_ids_ = stop_ids_;
    s->generator_ = std::make_unique<Generator>(model_, tokenizer_, /*adapters_off=*/true);
    return s;
}

GenerateResult ChatSession::generate(const std::vector<int64_t>& prompt, const TextCallback& on_text,
                                     const std::atomic<bool>* cancel) {
    return generator_->generate(prompt, args_.generation, stop_ids_, on_text, cancel);
}

std::vector<int64_t> ChatSession::prompt_ids(const std::string& query) const {
    return prompt_ids(history_, query, args_.system);
}

std::vector<int64_t> ChatSession::prompt_ids(const std::vector<std::pair<std::string, std::string>>& history,
                                             const std::string& query, const std::string& system) const {
    auto ids = encode_prompt(*template_, *tokenizer_, history, query, system, args_.thinking);
    auto prefix = tokenizer_->prefix_ids();
    const bool has_prefix = ids.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), ids.begin());
    if (!has_prefix) {
        ids.insert(ids.begin(), prefix.begin(), prefix.end());
    }
    return ids;
}

namespace {
// Replies are stripped, as ChatGLM's chat() strips them: chatglm3's assistant turn starts with a
// "\n" slot, which is template, not answer (the template re-adds it when history is rendered).
std::string strip(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    const auto last = s.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

// The stream without the reply's leading whitespace.
TextCallback skip_leading_space(const TextCallback& on_text) {
    if (!on_text) return {};
    auto started = std::make_shared<bool>(false);
    return [on_text, started](const std::string& d) {
        if (*started) return on_text(d);
        const auto from = d.find_first_not_of(" \t\r\n");
        if (from == std::string::npos) return true;
        *started = true;
        return on_text(d.substr(from));
    };
}
}  // namespace

GenerateResult ChatSession::reply(const std::string& query, const TextCallback& on_text,
                                  const std::atomic<bool>* cancel) {
    auto r = generate(prompt_ids(query), skip_leading_space(on_text), cancel);
    r.text = strip(r.text);
    history_.emplace_back(query, r.text);
    return r;
}

std::array<GenerateResult, 2> ChatSession::reply_beside(ChatSession& base, const std::string& query,
                                                        const std::function<bool(int, const std::string&)>& on_text,
                                                        const std::atomic<bool>* cancel) {
    if (base.model_ != model_ || !base.generator_ || base.args_.adapter_name_or_path == args_.adapter_name_or_path)
        throw Error("reply_beside needs the base session made by without_adapters() of this one");
    std::function<bool(int, const std::string&)> stream;
    if (on_text) {
        std::array<TextCallback, 2> side_stream;
        for (int side = 0; side < 2; ++side)
            side_stream[side] = skip_leading_space([&on_text, side](const std::string& d) { return on_text(side, d); });
        stream = [side_stream](int side, const std::string& d) { return side_stream[side](d); };
    }
    auto r = generator_->generate_pair({prompt_ids(query), base.prompt_ids(query)}, args_.generation, stop_ids_, stream,
                                       cancel);
    for (auto& one : r) one.text = strip(one.text);
    history_.emplace_back(query, r[0].text);
    base.history_.emplace_back(query, r[1].text);
    return r;
}

GenerateResult ChatSession::answer(const std::vector<std::pair<std::string, std::string>>& history,
                                   const std::string& query, const std::string& system, const std::atomic<bool>* cancel) {
    auto r = generate(prompt_ids(history, query, system.empty() ? args_.system : system), {}, cancel);
    r.text = strip(r.text);
    return r;
}

bool ChatSession::replies(const std::vector<std::vector<int64_t>>& prompts, int64_t slots,
                          const std::function<bool(size_t, GenerateResult&&)>& on_reply,
                          const std::atomic<bool>* cancel) {
    return generator_->generate_batch(prompts, args_.generation, stop_ids_, slots,
                                      [&](size_t i, GenerateResult&& r) {
                                          r.text = strip(r.text);
                                          return on_reply(i, std::move(r));
                                      },
                                      cancel);
}

GenerateResult ChatSession::complete(const std::string& text, const TextCallback& on_text,
                                     const std::atomic<bool>* cancel) {
    auto saved = std::move(history_);
    history_.clear();
    auto r = generate(prompt_ids(text), skip_leading_space(on_text), cancel);
    r.text = strip(r.text);
    history_ = std::move(saved);
    return r;
}

}  // namespace tb
