// `train … nproc_per_node=N`: this program starts N copies of itself as ranks 0…N-1 of one run on
// this machine (what `torchrun --standalone --nproc_per_node N` does) and watches them. No torch.
#pragma once

#include <string>
#include <vector>

namespace tb {

struct LocalLaunch {
    int nproc = 1;
    std::vector<std::string> argv;  // the command line each rank runs (argv[0] is ignored: this program)
    // Seconds the others get to stop by themselves after one rank failed, then they are terminated.
    int grace_s = 10;
};

// Runs the ranks with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a
// free MASTER_PORT (or the caller's MASTER_ADDR/MASTER_PORT), OMP_NUM_THREADS split between them
// unless set. Ctrl-C / SIGTERM reach each rank once as SIGINT (stop and save; twice: cancel).
// When a rank fails, the others are stopped: a rank that ended with an error (which it printed)
// gives its exit code; one killed by a signal is a tb::Error naming the rank and the signal.
// Returns the ranks' common exit code (0 finished, 130 stopped and saved).
int run_local_ranks(const LocalLaunch& launch);

// This process's command line as it was started (/proc/self/cmdline), for the ranks to run again.
std::vector<std::string> this_command_line();

}  // namespace tb
