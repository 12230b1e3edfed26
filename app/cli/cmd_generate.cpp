// `generate --prompt TEXT`: the completion only on stdout (streamed), logs on stderr.
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "infer/chat_session.h"

namespace tb::cli {

void add_generate(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("generate", "complete a prompt (rendered with the model's template)");
    auto collector = std::make_shared<ArgCollector>(sub, inference_keys());
    auto prompt = std::make_shared<std::string>();
    sub->add_option("--prompt", *prompt, "text to complete (default: empty)");
    sub->callback([&run, collector, prompt] {
        run = [collector, prompt] {
            ChatSession session(inference_args(collector->collect()));
            auto r = session.complete(*prompt, [](const std::string& d) {
                std::cout << d << std::flush;
                return true;
            });
            std::cout << std::endl;
            log::info(r.ids.size(), " tokens, ", r.tokens_per_second(), " tokens/s (", r.finish_reason, ")");
            return 0;
        };
    });
}

}  // namespace tb::cli
