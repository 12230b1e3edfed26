// tunebench-cli: the headless front end. Links the engine only (no Qt). Every engine error is
// caught here once and printed as one line on stderr with a non-zero exit.
#include <CLI/CLI.hpp>

#include <iostream>

#include <c10/util/Exception.h>

#include "commands.h"
#include "core/crash_report.h"
#include "core/error.h"
#include "core/log.h"

int main(int argc, char** argv) {
    tb::install_crash_report("tunebench-cli");
    CLI::App app{"Tunebench: fine-tune, chat with and export large language models"};
    app.require_subcommand(1);
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "debug logging on stderr");
    std::function<int()> run;
    tb::cli::register_commands(app, run);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (verbose) tb::log::set_min_level(tb::log::Level::Debug);
    try {
        return run();
    } catch (const tb::Error& e) {
        std::cerr << "error: " + tb::one_line(e) + "\n" << std::flush;  // one write: ranks share the terminal
        return 1;
    } catch (const c10::Error& e) {
        std::cerr << "error: " << tb::first_line(e.what_without_backtrace())
                  << " (hint: an error inside LibTorch; the files written so far are complete. Run with -v and report "
                     "the command if it persists)"
                  << std::endl;
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << tb::first_line(e.what())
                  << " (hint: an unexpected error inside a library; the files written so far are complete. Please report "
                     "the command that led here)"
                  << std::endl;
        return 1;
    }
}
