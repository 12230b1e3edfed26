// The workbench's QApplication: an exception that escapes a slot or an event handler (a bug, or
// a library error no page caught) is shown in one message box and the program keeps running,
// instead of Qt's abort taking the user's unsaved work with it.
#pragma once

#include <QApplication>

namespace tb::ui {

class GuardedApplication : public QApplication {
public:
    using QApplication::QApplication;
    bool notify(QObject* receiver, QEvent* event) override;
    int caughtExceptions() const { return m_caught; }

private:
    int m_caught = 0;
};

}  // namespace tb::ui
