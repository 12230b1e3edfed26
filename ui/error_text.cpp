#include "error_text.h"

#include <QCoreApplication>

#include "core/error.h"

namespace tb::ui {

ErrorText errorText(const std::exception& e) {
    if (const auto* tb = dynamic_cast<const tb::Error*>(&e))
        return {QString::fromStdString(tb->what()), QString::fromStdString(tb->hint())};
    return {QString::fromUtf8(e.what()),
            QCoreApplication::translate("ErrorText", "an unexpected error inside a library; the work so far is kept. "
                                                     "Please report it with the steps that led here")};
}

ErrorText currentErrorText() {
    try {
        throw;
    } catch (const std::exception& e) {
        return errorText(e);
    } catch (...) {
        return {QCoreApplication::translate("ErrorText", "an unexpected error"),
                QCoreApplication::translate("ErrorText", "the work so far is kept; please report the steps that led here")};
    }
}

}  // namespace tb::ui
