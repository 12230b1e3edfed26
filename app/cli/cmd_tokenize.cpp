// `tokenize --text TEXT`: ids on stdout, space-separated (no prefix unless --add_special_tokens).
// With --chat, TEXT is the user's query and the ids are the generation prompt the chat builds
// (the model's template or --template, --system, earlier rounds from --history_json).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_args.h"
#include "core/error.h"
#include "commands.h"
#include "io/json_text.h"
#include "model/model_config.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tb::cli {

void add_tokenize(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("tokenize", "print the token ids of a text");
    auto collector = std::make_shared<ArgCollector>(sub, std::vector<std::string>{"model_name_or_path"});
    auto text = std::make_shared<std::string>();
    auto special = std::make_shared<bool>(false);
    auto chat = std::make_shared<bool>(false);
    auto template_name = std::make_shared<std::string>();
    auto system = std::make_shared<std::string>();
    auto history = std::make_shared<std::string>("[]");
    auto thinking = std::make_shared<ThinkingOptions>();
    sub->add_option("--text", *text, "text to tokenize")->required();
    sub->add_flag("--add_special_tokens", *special, "prepend BOS / [gMASK] sop as the model expects");
    sub->add_flag("--chat", *chat, "the chat prompt for the query TEXT, rendered with the template");
    sub->add_option("--template", *template_name, "with --chat: the template (default: the model's)");
    sub->add_option("--system", *system, "with --chat: the system prompt (default: the template's)");
    sub->add_option("--history_json", *history, "with --chat: earlier rounds, [[\"query\", \"answer\"], ...]");
    sub->add_option("--enable_thinking", thinking->enable_thinking, "with --chat and a reasoning template (qwen3): false puts an empty thought in the prompt");
    sub->add_option("--preserve_thinking", thinking->preserve_thinking, "with --chat: keep the thoughts of earlier answers");
    sub->callback([&run, collector, text, special, chat, template_name, system, history, thinking] {
        run = [collector, text, special, chat, template_name, system, history, thinking] {
            auto map = collector->collect();
            std::filesystem::path folder = model_folder(map);
            std::unique_ptr<ModelConfig> config;
            if (std::filesystem::exists(folder / "config.json"))
                config = std::make_unique<ModelConfig>(ModelConfig::from_folder(folder));
            auto tok = load_tokenizer(folder, config.get());
            std::vector<int64_t> ids;
            if (*chat) {
                std::string name = *template_name;
                if (name.empty() && config) name = detect_template(folder, *config, *tok);
                std::vector<std::pair<std::string, std::string>> rounds;
                try {
                    rounds = io::parse_json(*history, "--history_json").get<decltype(rounds)>();
                } catch (const nlohmann::json::exception&) {
                    throw ConfigError("--history_json is " + history->substr(0, 60) + ", expected [[\"query\", \"answer\"], ...]");
                }
                ids = encode_prompt(ChatTemplate::get(name.empty() ? "empty" : name), *tok, rounds, *text, *system, *thinking);
            } else {
                ids = *special ? tok->encode_with_prefix(*text) : tok->encode(*text);
            }
            for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
            std::cout << std::endl;
            return 0;
        };
    });
}

}  // namespace tb::cli
