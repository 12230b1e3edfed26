#include "train/training_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/install_paths.h"
#include "io/atomic_file.h"
#include "io/json_text.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double seconds_of(const std::string& hms) {  // "h:mm:ss" as trainer_log.jsonl writes it
    int h = 0, m = 0, s = 0;
    return std::sscanf(hms.c_str(), "%d:%d:%d", &h, &m, &s) == 3 ? h * 3600.0 + m * 60.0 + s : 0.0;
}

TrainProgress progress_of(const json& line) {
    TrainProgress p{.phase = "training", .is_log = true};
    p.step = line.value("current_steps", int64_t{0});
    p.total_steps = line.value("total_steps", int64_t{0});
    p.epoch = line.value("epoch", 0.0);
    p.loss = line.value("loss", -1.0);
    p.eval_loss = line.value("eval_loss", -1.0);
    p.learning_rate = line.value("lr", 0.0);
    p.tokens_per_second = line.value("throughput", 0.0);
    p.elapsed_s = line.value("elapsed_s", seconds_of(line.value("elapsed_time", std::string())));
    p.eta_s = seconds_of(line.value("remaining_time", std::string()));
    return p;
}

// The CLI's last "error: MESSAGE (hint: HINT)" line, as an Error of this process: rank 0's when it
// printed one (the others' start "[rank N]" and often repeat it).
[[noreturn]] void rethrow_cli_error(const std::string& err, int status) {
    std::string last, last_of_rank0;
    size_t pos = 0;
    while (pos < err.size()) {
        const size_t end = std::min(err.find('\n', pos), err.size());
        const std::string line = err.substr(pos, end - pos);
        if (line.rfind("error: ", 0) == 0) {
            last = line.substr(7);
            if (last.rfind("[rank ", 0) != 0) last_of_rank0 = last;
        }
        pos = end + 1;
    }
    if (!last_of_rank0.empty()) last = last_of_rank0;
    if (last.empty()) {
        throw Error("the training processes ended with " +
                        (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                             : "exit code " + std::to_string(WEXITSTATUS(status))) +
                        (err.empty() ? std::string() : ": " + first_line(err.substr(err.size() > 400 ? err.size() - 400 : 0))));
    }
    const size_t h = last.rfind(" (hint: ");
    if (h != std::string::npos && last.back() == ')')
        throw Error(last.substr(0, h), last.substr(h + 8, last.size() - h - 9));
    throw Error(last);
}

}  // namespace

std::string find_cli_beside_this_program() {
    const fs::path self = executable_path();
    for (const fs::path& p : {self.parent_path() / "tunebench-cli", self.parent_path().parent_path() / "cli" / "tunebench-cli"})
        if (!self.empty() && fs::exists(p)) return p.string();
    throw Error("tunebench-cli was not found beside " + self.string() + "; training on several GPUs runs through it",
                "install Tunebench completely (the GUI and tunebench-cli come together), or train on one device");
}

TrainResult run_training_processes(const TrainingArgs& args, const std::string& cli,
                                   const std::function<void(const TrainProgress&)>& on_progress, std::atomic<int>* request) {
    auto report = [&](TrainProgress p) {
        if (on_progress) on_progress(p);
    };
    // The arguments as the CLI reads them, in a file of its own (not in output_dir: nothing is
    // written there before the run has validated it).
    const fs::path yaml = fs::temp_directory_path() / ("tunebench-train-" + std::to_string(::getpid()) + "-" +
                                                       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".yaml");
    io::write_text_atomically(yaml, args.to_yaml());
    struct RemoveYaml {
        fs::path p;
        ~RemoveYaml() {
            std::error_code ec;
            fs::remove(p, ec);
        }
    } remove_yaml{yaml};

    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw Error("could not start tunebench-cli: no pipe");
    const std::string y = yaml.string(), train = "train";
    std::vector<char*> argv = {const_cast<char*>(cli.c_str()), const_cast<char*>(train.c_str()), const_cast<char*>(y.c_str()), nullptr};
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(err_pipe[1], STDERR_FILENO);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // this program gone: its training stops with it
        if (::getppid() != parent) ::_exit(1);
        ::execv(cli.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(err_pipe[1]);
    if (pid < 0) {
        ::close(err_pipe[0]);
        throw Error("could not start " + cli);
    }
    ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
    report({.phase = "loading", .message = "starting " + std::to_string(args.nproc_per_node) + " training processes (" + cli + ")"});

    std::string err, pending;
    bool following = false;
    size_t lines_done = 0;
    int interrupts = 0, status = 0;
    const fs::path log = fs::path(args.output_dir) / "trainer_log.jsonl";
    auto follow_log = [&] {
        if (!following) return;
        std::ifstream in(log);
        std::string line;
        for (size_t i = 0; std::getline(in, line); ++i) {
            if (i < lines_done) continue;
            try {
                report(progress_of(json::parse(line)));
            } catch (const json::exception&) {
                break;  // a line still being written: read it next time
            }
            lines_done = i + 1;
        }
    };
    for (bool running = true; running;) {
        char buf[4096];
        for (ssize_t n; (n = ::read(err_pipe[0], buf, sizeof buf)) > 0;) pending.append(buf, static_cast<size_t>(n));
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            err += line + "\n";
            if (err.size() > 65536) err.erase(0, err.size() - 65536);
            if (line == "training") following = true;  // rank 0 has trimmed trainer_log.jsonl to this run
            if (line.rfind("step ", 0) != 0 && line.rfind("error: ", 0) != 0) report({.phase = "preparing", .message = line});
        }
        follow_log();
        const int want = request ? request->load() : 0;  // the CLI's Ctrl-C: once stop and save, twice cancel
        for (; interrupts < want && interrupts < 2; ++interrupts) ::kill(pid, SIGINT);
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            running = false;
            for (ssize_t n; (n = ::read(err_pipe[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(n));
            err += pending;
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    ::close(err_pipe[0]);
    follow_log();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (interrupts >= 2 && code != 0) throw CancelledError("training cancelled");
    if (code != 0 && code != 130) rethrow_cli_error(err, status);
    TrainResult r;
    r.output_dir = args.output_dir;
    r.stopped_early = code == 130;
    const auto state = io::parse_json(io::read_file(fs::path(args.output_dir) / "trainer_state.json"), "trainer_state.json");
    r.global_step = state.value("global_step", int64_t{0});
    for (const auto& e : state.value("log_history", json::array()))
        if (e.contains("train_loss")) r.train_loss = e.value("train_loss", 0.0);
    return r;
}

}  // namespace tb
