// The list of subcommands.
#include "commands.h"

namespace tb::cli {

void register_commands(CLI::App& app, std::function<int()>& run) {
    add_generate(app, run);
    add_chat(app, run);
    add_tokenize(app, run);
    add_inspect(app, run);
    add_init_demo(app, run);
    add_train(app, run);
    add_export(app, run);
    add_convert(app, run);
    add_predict(app, run);
    add_evaluate(app, run);
    add_estimate(app, run);
    add_bench(app, run);
    add_analyze(app, run);
    add_score(app, run);
}

}  // namespace tb::cli
