// Subcommand registration: each subcommand sets `run` to its body when selected.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace tb::cli {

void register_commands(CLI::App& app, std::function<int()>& run);

void add_generate(CLI::App& app, std::function<int()>& run);
void add_chat(CLI::App& app, std::function<int()>& run);
void add_tokenize(CLI::App& app, std::function<int()>& run);
void add_inspect(CLI::App& app, std::function<int()>& run);
void add_init_demo(CLI::App& app, std::function<int()>& run);
void add_train(CLI::App& app, std::function<int()>& run);
void add_export(CLI::App& app, std::function<int()>& run);
void add_convert(CLI::App& app, std::function<int()>& run);
void add_predict(CLI::App& app, std::function<int()>& run);
void add_evaluate(CLI::App& app, std::function<int()>& run);
void add_estimate(CLI::App& app, std::function<int()>& run);
void add_bench(CLI::App& app, std::function<int()>& run);
void add_analyze(CLI::App& app, std::function<int()>& run);
void add_score(CLI::App& app, std::function<int()>& run);

}  // namespace tb::cli
