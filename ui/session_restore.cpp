// First launch and remembered settings (see session_restore.h).
#include "session_restore.h"

#include <QComboBox>
#include <QSettings>
#include <QStatusBar>

#include <exception>

#include "demo/demo_model.h"
#include "language.h"
#include "main_window.h"
#include "model_bar.h"

namespace tb::ui {

bool restoreSession(MainWindow& window, QSettings& settings, const QString& demoDir, const QString& userDataDir) {
    window.setLanguage(settings.value("language", defaultLanguage()).toString());
    QObject::connect(window.modelBar()->languageBox(), &QComboBox::currentIndexChanged, &window, [&window, &settings] {
        settings.setValue("language", window.modelBar()->languageBox()->currentData());
    });
    const QString userDemo = userDataDir + "/demo";
    const QString remembered = settings.value("model").toString();
    QString demo = demoDir;
    if (demo.isEmpty() && (remembered.isEmpty() || remembered == userDemo + "/model")) demo = userDemo;
    bool ok = true;
    if (!demo.isEmpty()) {
        try {
            init_demo(demo.toStdString());  // keeps a current demo as it is
            window.openDemo(demo);
        } catch (const std::exception& e) {  // tb::Error, or a filesystem error from a folder it cannot create
            window.statusBar()->showMessage(
                QObject::tr("The demo could not be written to %1: %2").arg(demo, QString::fromStdString(e.what())));
            ok = false;
        }
    } else {
        window.modelBar()->setModelDir(remembered);
    }
    QObject::connect(window.modelBar(), &ModelBar::modelChanged, &window,
                     [&settings](const QString& dir) { settings.setValue("model", dir); });
    if (!window.modelBar()->modelDir().isEmpty()) settings.setValue("model", window.modelBar()->modelDir());
    return ok;
}

}  // namespace tb::ui
