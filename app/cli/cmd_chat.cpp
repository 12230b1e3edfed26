// `chat`: interactive multi-turn chat; /clear forgets the history, /exit leaves. When stdin is
// not a terminal each line is one user turn and each reply is printed on its own line.
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "core/log.h"
#include "infer/chat_session.h"

namespace tb::cli {
namespace {
std::atomic<bool> g_interrupt{false};
void on_sigint(int) { g_interrupt = true; }
}  // namespace

void add_chat(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("chat", "multi-turn chat (/clear, /exit)");
    auto collector = std::make_shared<ArgCollector>(sub, inference_keys());
    sub->callback([&run, collector] {
        run = [collector] {
            ChatSession session(inference_args(collector->collect()));
            const bool tty = ::isatty(STDIN_FILENO);
            if (tty) {
                std::signal(SIGINT, on_sigint);  // Ctrl-C stops a reply, not the program
                std::cerr << "Chat with the model. /clear to forget the history, /exit to leave.\n";
            }
            std::string line;
            while (true) {
                if (tty) std::cout << "\nUser: " << std::flush;
                if (!std::getline(std::cin, line)) break;
                if (line == "/exit" || line == "/quit") break;
                if (line == "/clear") {
                    session.clear();
                    if (tty) std::cerr << "History cleared.\n";
                    continue;
                }
                if (line.empty()) continue;
                if (tty) std::cout << "Assistant: " << std::flush;
                g_interrupt = false;
                auto r = session.reply(line, [](const std::string& d) {
                    std::cout << d << std::flush;
                    return true;
                }, &g_interrupt);
                std::cout << std::endl;
                log::debug(r.ids.size(), " tokens, ", r.tokens_per_second(), " tokens/s");
            }
            return 0;
        };
    });
}

}  // namespace tb::cli
