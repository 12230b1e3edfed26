// Crash report: only async-signal-safe calls in the handler (write, backtrace_symbols_fd, raise).
#include "core/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <ucontext.h>
#include <string.h>
#include <unistd.h>

#include <cstdint>
#include <initializer_list>

namespace tb {
namespace {

const char* g_program = "tunebench";

void say(const char* s) { [[maybe_unused]] auto n = write(STDERR_FILENO, s, strlen(s)); }

void say_hex(uintptr_t v) {
    char buf[2 + 16 + 1] = "0x";
    for (int i = 0; i < 16; ++i) buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
    buf[18] = 0;
    say(buf);
}

void on_crash(int sig, siginfo_t* info, void* context) {
    say("\n");
    say(g_program);
    say(" crashed (");
    say(strsignal(sig));
    say(" at ");
    say_hex(reinterpret_cast<uintptr_t>(info->si_addr));
    say("). Files it wrote before are complete (every write goes to a temporary name first). "
        "Please report the command and this backtrace:\n");
#if defined(__x86_64__)
    // The faulting instruction and the return address on top of the stack: the unwinder cannot
    // always step out of the faulting frame (a call through a bad pointer has no unwind info).
    const auto* uc = static_cast<const ucontext_t*>(context);
    void* where[2] = {reinterpret_cast<void*>(uc->uc_mcontext.gregs[REG_RIP]),
                      *reinterpret_cast<void* const*>(uc->uc_mcontext.gregs[REG_RSP])};
    backtrace_symbols_fd(where, 2, STDERR_FILENO);
    say("--\n");
#else
    (void)context;
#endif
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
    // its own stack, so a stack overflow is reported too
    static char alt[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alt;
    ss.ss_size = sizeof alt;
    sigaltstack(&ss, nullptr);
    struct sigaction sa{};
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigaction(sig, &sa, nullptr);
}

}  // namespace tb
