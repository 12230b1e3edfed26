// Engine logging with a replaceable sink: stderr by default, the GUI installs its own.
// Not a general logging framework: four levels, one sink, thread-safe.
#pragma once

#include <functional>
#include <sstream>
#include <string>

namespace tb::log {

enum class Level { Debug, Info, Warning, Error };

using Sink = std::function<void(Level, const std::string&)>;

void set_sink(Sink sink);        // empty sink restores stderr
void set_min_level(Level level); // messages below it are dropped
void write(Level level, const std::string& message);

template <class... Args>
std::string cat(const Args&... args) {
    std::ostringstream os;
    (os << ... << args);
    return os.str();
}
template <class... Args>
void info(const Args&... args) { write(Level::Info, cat(args...)); }
template <class... Args>
void warn(const Args&... args) { write(Level::Warning, cat(args...)); }
template <class... Args>
void debug(const Args&... args) { write(Level::Debug, cat(args...)); }

}  // namespace tb::log
