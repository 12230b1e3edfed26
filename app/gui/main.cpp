// tunebench: the desktop workbench. `--demo DIR` opens the embedded demo from DIR; otherwise the
// last model is restored, and a first launch opens the demo (ui/session_restore.h).
#include <QCommandLineParser>
#include <QSettings>
#include <QStandardPaths>

#include "core/crash_report.h"
#include "guarded_application.h"
#include "main_window.h"
#include "session_restore.h"

int main(int argc, char** argv) {
    tb::install_crash_report("tunebench");
    tb::ui::GuardedApplication app(argc, argv);
    QApplication::setApplicationName("Tunebench");
    QApplication::setOrganizationName("Tunebench");
    QCommandLineParser parser;
    parser.addHelpOption();
    QCommandLineOption demo("demo", "open the demo in DIR (written there when missing)", "DIR");
    parser.addOption(demo);
    parser.process(app);

    QSettings settings;
    tb::ui::MainWindow window;
    window.show();
    tb::ui::restoreSession(window, settings, parser.value(demo),
                           QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation));
    return QApplication::exec();
}
