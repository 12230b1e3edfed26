// A label for status lines, results and errors: wraps, can be selected and copied, and never
// widens its page — a long one-line error (a path, a library message) is wrapped or cut, never
// allowed to push the window past a laptop's screen.
#pragma once

#include <QLabel>

namespace tb::ui {

inline QLabel* messageLabel() {
    auto* l = new QLabel;
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    l->setMinimumWidth(80);
    return l;
}

}  // namespace tb::ui
