// What the GUI shows for an exception caught at a boundary (a worker job, a page action): a
// tb::Error's message and hint; any other exception's text (a library's message, with a hint
// that says so). Nothing a page or the engine throws may end the program.
#pragma once

#include <QString>

#include <exception>

namespace tb::ui {

struct ErrorText {
    QString message, hint;
};

ErrorText errorText(const std::exception& e);
// For catch (...): the exception in flight, whatever its type.
ErrorText currentErrorText();

}  // namespace tb::ui
