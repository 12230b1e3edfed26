// Typed, user-facing errors of the engine: a message that names the file/key/value and a hint.
// Thrown inside the engine, caught once at a boundary (CLI main, GUI worker). Not for bugs.
#pragma once

#include <stdexcept>
#include <string>

namespace tb {

class Error : public std::runtime_error {
public:
    Error(std::string message, std::string hint = {})
        : std::runtime_error(std::move(message)), hint_(std::move(hint)) {}
    const std::string& hint() const { return hint_; }

private:
    std::string hint_;
};

// A user's file is missing, unreadable or malformed.
class FileError : public Error {
    using Error::Error;
};
// A configuration key has a value the engine cannot use.
class ConfigError : public Error {
    using Error::Error;
};
// Something the engine does not support (yet): an architecture, a dtype, a format.
class UnsupportedError : public Error {
    using Error::Error;
};
// The user cancelled a running operation.
class CancelledError : public Error {
    using Error::Error;
};

// "message (hint: ...)" on one line, as the CLI prints it.
std::string one_line(const Error& e);
// A library's message on one line (newlines become spaces), for the same place.
std::string first_line(const std::string& message);

}  // namespace tb
