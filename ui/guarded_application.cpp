#include "guarded_application.h"

#include <QMessageBox>
#include <QTimer>

#include <cstdio>

#include "error_text.h"

namespace tb::ui {

bool GuardedApplication::notify(QObject* receiver, QEvent* event) {
    try {
        return QApplication::notify(receiver, event);
    } catch (...) {
        ++m_caught;
        const auto t = currentErrorText();
        std::fprintf(stderr, "tunebench: %s (%s)\n", t.message.toUtf8().constData(), t.hint.toUtf8().constData());
        // shown after the event returns: a modal box inside notify would nest event loops
        QTimer::singleShot(0, this, [t] {
            if (platformName() == "offscreen") return;  // tests and headless runs: stderr only
            QMessageBox::critical(activeWindow(), QStringLiteral("Tunebench"), t.message + "\n\n" + t.hint);
        });
        return false;
    }
}

}  // namespace tb::ui
