// Crash report: only async-signal-safe calls in the handler (write, backtrace_symbols_fd, raise).
#include "core/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <initializer_list>

namespace tb {
namespace {

const char* g_program = "tunebench";

void say(const char* s) { [[maybe_unused]] auto n = write(STDERR_FILENO, s, strlen(s)); }

void on_crash(int sig) {
    say("\n");
    say(g_program);
    say(" crashed (");
    say(strsignal(sig));
    say("). Files it wrote before are complete (every write goes to a temporary name first). "
        "Please report the command and this backtrace:\n");
    void* frames[64];
    const int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    signal(sig, SIG_DFL);  // die as the signal would have: same exit status, core dump if enabled
    raise(sig);
}

}  // namespace

void install_crash_report(const char* program) {
    g_program = program;
    void* warm[1];
    backtrace(warm, 1);  // loads libgcc now: the first call may allocate, which a handler must not
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) signal(sig, on_crash);
}

}  // namespace tb
