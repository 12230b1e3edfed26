// tunebench: the desktop workbench. `--demo DIR` opens the embedded demo from DIR; on first launch
// (no model chosen before) the demo is written to the user's data folder and opened, so Train
// works at once on any machine. The interface language is remembered (Chinese by default on a
// Chinese system).
#include <QApplication>
#include <QCommandLineParser>
#include <QComboBox>
#include <QDir>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>

#include "core/error.h"
#include "demo/demo_model.h"
#include "language.h"
#include "main_window.h"
#include "model_bar.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Tunebench");
    QApplication::setOrganizationName("Tunebench");
    QCommandLineParser parser;
    parser.addHelpOption();
    QCommandLineOption demo("demo", "open the demo in DIR (written there when missing)", "DIR");
    parser.addOption(demo);
    parser.process(app);

    QSettings settings;
    tb::ui::MainWindow window;
    window.setLanguage(settings.value("language", tb::ui::defaultLanguage()).toString());
    QObject::connect(window.modelBar()->languageBox(), &QComboBox::currentIndexChanged, &window, [&] {
        settings.setValue("language", window.modelBar()->languageBox()->currentData());
    });
    window.show();
    QString demoDir = parser.value(demo);
    const QString userDemo = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/demo";
    if (demoDir.isEmpty() && (!settings.contains("model") || settings.value("model").toString() == userDemo + "/model"))
        demoDir = userDemo;
    if (!demoDir.isEmpty()) {
        try {
            tb::init_demo(demoDir.toStdString());  // keeps a current demo as it is
            window.openDemo(demoDir);
        } catch (const tb::Error& e) {
            window.statusBar()->showMessage(QObject::tr("The demo could not be written to %1: %2").arg(demoDir, e.what()));
        }
    } else {
        window.modelBar()->setModelDir(settings.value("model").toString());
    }
    QObject::connect(window.modelBar(), &tb::ui::ModelBar::modelChanged, &window,
                     [&](const QString& dir) { settings.setValue("model", dir); });
    return QApplication::exec();
}
