// Default stderr sink and the global (mutex-guarded) sink slot.
#include "core/log.h"

#include <cstdio>
#include <mutex>

namespace tb::log {
namespace {
std::mutex g_mutex;
Sink g_sink;
Level g_min = Level::Info;

const char* prefix(Level l) {
    switch (l) {
        case Level::Debug: return "debug: ";
        case Level::Info: return "";
        case Level::Warning: return "warning: ";
        case Level::Error: return "error: ";
    }
    return "";
}
}  // namespace

void set_sink(Sink sink) {
    std::lock_guard lock(g_mutex);
    g_sink = std::move(sink);
}

void set_min_level(Level level) {
    std::lock_guard lock(g_mutex);
    g_min = level;
}

void write(Level level, const std::string& message) {
    std::lock_guard lock(g_mutex);
    if (level < g_min) return;
    if (g_sink) {
        g_sink(level, message);
    } else {
        std::fprintf(stderr, "%s%s\n", prefix(level), message.c_str());
    }
}

}  // namespace tb::log
