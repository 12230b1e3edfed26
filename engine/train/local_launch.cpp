#include "train/local_launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/log.h"

extern char** environ;

namespace tb {
namespace {

volatile std::sig_atomic_t g_interrupts = 0;
void count_interrupt(int) { g_interrupts = g_interrupts + 1; }

// A port the kernel just handed out on the loopback: free unless another program takes it in the
// moment before rank 0 binds it (torchrun --standalone has the same window).
int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (fd >= 0) ::close(fd);
        throw Error(std::string("could not find a free local port for the training processes: ") + std::strerror(errno),
                    "set MASTER_PORT to a free port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        return "was killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : std::string());
    }
    return "ended (status " + std::to_string(status) + ")";
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// The environment of one rank: this process's, with the rendezvous variables replaced.
std::vector<std::string> rank_environment(int rank, int nproc, const std::string& addr, int port, int threads) {
    const std::vector<std::pair<std::string, std::string>> ours = {
        {"RANK", std::to_string(rank)},           {"WORLD_SIZE", std::to_string(nproc)},
        {"LOCAL_RANK", std::to_string(rank)},     {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
        {"MASTER_ADDR", addr},                    {"MASTER_PORT", std::to_string(port)},
        {"OMP_NUM_THREADS", std::to_string(threads)}};
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        bool replaced = false;
        for (const auto& [k, v] : ours) replaced = replaced || kv.rfind(k + "=", 0) == 0;
        if (!replaced) env.push_back(kv);
    }
    for (const auto& [k, v] : ours) env.push_back(k + "=" + v);
    return env;
}

}  // namespace

std::vector<std::string> this_command_line() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::vector<std::string> argv;
    std::string arg;
    while (std::getline(in, arg, '\0')) argv.push_back(arg);
    if (argv.empty()) throw Error("could not read this program's command line from /proc/self/cmdline");
    return argv;
}

int run_local_ranks(const LocalLaunch& l) {
    if (l.nproc < 1) throw ConfigError("nproc_per_node must be at least 1, got " + std::to_string(l.nproc));
    const char* addr_env = std::getenv("MASTER_ADDR");
    const char* port_env = std::getenv("MASTER_PORT");
    const std::string addr = addr_env && *addr_env ? addr_env : "127.0.0.1";
    const int port = port_env && *port_env ? std::atoi(port_env) : free_loopback_port();
    int threads = static_cast<int>(std::thread::hardware_concurrency()) / l.nproc;
    if (const char* omp = std::getenv("OMP_NUM_THREADS"); omp && *omp) threads = std::atoi(omp);
    threads = std::max(1, threads);

    // Everything a child needs is built before fork: between fork and exec only system calls.
    std::vector<std::vector<std::string>> envs;
    for (int r = 0; r < l.nproc; ++r) envs.push_back(rank_environment(r, l.nproc, addr, port, threads));
    std::vector<char*> args;
    for (const auto& a : l.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    struct sigaction on{}, old_int{}, old_term{};
    on.sa_handler = count_interrupt;
    sigemptyset(&on.sa_mask);
    sigaction(SIGINT, &on, &old_int);
    sigaction(SIGTERM, &on, &old_term);
    g_interrupts = 0;

    const pid_t parent = ::getpid();
    std::vector<pid_t> pids;
    for (int r = 0; r < l.nproc; ++r) {
        std::vector<char*> envp;
        for (auto& kv : envs[r]) envp.push_back(kv.data());
        envp.push_back(nullptr);
        const pid_t pid = ::fork();
        if (pid == 0) {
            // Its own process group: a terminal's Ctrl-C reaches the ranks once, through this process.
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // this launcher killed: no rank trains on alone
            if (::getppid() != parent) ::_exit(1);
            ::signal(SIGINT, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            ::execve("/proc/self/exe", args.data(), envp.data());
            ::_exit(127);
        }
        if (pid < 0) {
            for (pid_t p : pids) ::kill(p, SIGKILL);
            for (pid_t p : pids) ::waitpid(p, nullptr, 0);
            sigaction(SIGINT, &old_int, nullptr);
            sigaction(SIGTERM, &old_term, nullptr);
            throw Error(std::string("could not start training process ") + std::to_string(r) + ": " + std::strerror(errno));
        }
        pids.push_back(pid);
    }
    log::info("started ", l.nproc, " training processes (ranks 0-", l.nproc - 1, ", rendezvous ", addr, ":", port, ")");

    using Clock = std::chrono::steady_clock;
    std::vector<int> status(l.nproc, -1);
    int alive = l.nproc, forwarded = 0, failed_rank = -1, sent = 0, alive_when_failed = 0;
    Clock::time_point failed_at;
    while (alive > 0) {
        for (; forwarded < g_interrupts; ++forwarded)
            for (int r = 0; r < l.nproc; ++r)
                if (status[r] == -1) ::kill(pids[r], SIGINT);
        int st = 0;
        const pid_t p = ::waitpid(-1, &st, WNOHANG);
        if (p > 0) {
            for (int r = 0; r < l.nproc; ++r) {
                if (pids[r] != p) continue;
                status[r] = st;
                --alive;
                const int code = exit_code(st);
                if (code != 0 && code != 130 && failed_rank < 0) {
                    failed_rank = r;
                    failed_at = Clock::now();
                    alive_when_failed = alive + 1;
                }
            }
            continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        // After a failure the others get grace_s to notice and stop by themselves (a lost peer is
        // an error in their next collective), then SIGTERM, then SIGKILL.
        if (failed_rank >= 0) {
            const double waited = std::chrono::duration<double>(Clock::now() - failed_at).count();
            const int want = waited > 2 * l.grace_s ? 2 : waited > l.grace_s ? 1 : 0;
            for (; sent < want; ++sent)
                for (int r = 0; r < l.nproc; ++r)
                    if (status[r] == -1) ::kill(pids[r], sent == 0 ? SIGTERM : SIGKILL);
        }
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);

    if (failed_rank >= 0 && WIFEXITED(status[failed_rank])) {
        // it printed its error (the ranks' "error:" lines above); only say what became of the others
        if (alive_when_failed > 1)
            std::fprintf(stderr, "training process %d of %d failed; the other processes were stopped\n", failed_rank, l.nproc);
        return exit_code(status[failed_rank]);
    }
    if (failed_rank >= 0) {
        const bool signalled = WIFSIGNALED(status[failed_rank]);
        throw Error("training process " + std::to_string(failed_rank) + " of " + std::to_string(l.nproc) + " " +
                        describe(status[failed_rank]) + "; the other processes were stopped",
                    std::string(signalled ? "it was stopped from outside (the system's out-of-memory killer? see dmesg)"
                                          : "its message above says why") +
                        "; checkpoints written before are intact: rerun with resume_from_checkpoint: true");
    }
    int code = 0;
    for (int s : status) code = std::max(code, exit_code(s));
    return code;
}

}  // namespace tb
