// `tokenize --text TEXT`: ids on stdout, space-separated (no prefix unless --add_special_tokens).
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "model/model_config.h"
#include "tokenizer/tokenizer.h"

namespace tb::cli {

void add_tokenize(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("tokenize", "print the token ids of a text");
    auto collector = std::make_shared<ArgCollector>(sub, std::vector<std::string>{"model_name_or_path"});
    auto text = std::make_shared<std::string>();
    auto special = std::make_shared<bool>(false);
    sub->add_option("--text", *text, "text to tokenize")->required();
    sub->add_flag("--add_special_tokens", *special, "prepend BOS / [gMASK] sop as the model expects");
    sub->callback([&run, collector, text, special] {
        run = [collector, text, special] {
            auto map = collector->collect();
            std::filesystem::path folder = model_folder(map);
            std::unique_ptr<ModelConfig> config;
            if (std::filesystem::exists(folder / "config.json"))
                config = std::make_unique<ModelConfig>(ModelConfig::from_folder(folder));
            auto tok = load_tokenizer(folder, config.get());
            auto ids = *special ? tok->encode_with_prefix(*text) : tok->encode(*text);
            for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
            std::cout << std::endl;
            return 0;
        };
    });
}

}  // namespace tb::cli
