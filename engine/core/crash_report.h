// A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) prints what a bug report needs — the signal
// and a backtrace of the crashing thread — on stderr before the process dies as it would have.
#pragma once

namespace tb {

// Installs the handlers once; `program` names the binary in the message.
void install_crash_report(const char* program);

}  // namespace tb
