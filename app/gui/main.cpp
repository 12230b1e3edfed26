// tunebench: the desktop workbench. `--demo DIR` opens the embedded demo from DIR.
#include <QApplication>
#include <QCommandLineParser>

#include "main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Tunebench");
    QCommandLineParser parser;
    parser.addHelpOption();
    QCommandLineOption demo("demo", "open the demo in DIR (written by tunebench-cli init-demo)", "DIR");
    parser.addOption(demo);
    parser.process(app);
    tb::ui::MainWindow window;
    window.show();
    if (parser.isSet(demo)) window.openDemo(parser.value(demo));
    return QApplication::exec();
}
