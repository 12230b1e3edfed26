// A data-parallel run for a program that must not become one of its processes (the GUI): it runs
// `tunebench-cli train ARGS.yaml` (which starts the N ranks), follows the run's trainer_log.jsonl
// for progress, turns Stop/Cancel into the CLI's Ctrl-C, and reports the CLI's error as its own.
// No torch here.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "train/trainer.h"

namespace tb {

// `cli` is the tunebench-cli program. Same contract as run_training: progress through
// on_progress (one event per logged step), request StopAndSave/Cancel honoured, tb::Error with the
// CLI's message and hint when the run fails, CancelledError when cancelled.
TrainResult run_training_processes(const TrainingArgs& args, const std::string& cli,
                                   const std::function<void(const TrainProgress&)>& on_progress = {},
                                   std::atomic<int>* request = nullptr);

// tunebench-cli beside this program (installed: the same bin folder; a build tree: app/cli/).
std::string find_cli_beside_this_program();

}  // namespace tb
