// What the desktop app restores at start and remembers while it runs: the interface language and
// the last model folder. On first launch (no model remembered, or the demo's) the embedded demo is
// written to the user's data folder and opened, so Train works at once on any machine.
#pragma once

#include <QString>

class QSettings;

namespace tb::ui {

class MainWindow;

// demoDir: open the demo from this folder (written there when missing) instead of the remembered
// model (the --demo option). userDataDir: where a first launch writes the demo (its "demo" folder).
// Returns false (with the reason in the status bar) when the demo could not be written.
bool restoreSession(MainWindow& window, QSettings& settings, const QString& demoDir, const QString& userDataDir);

}  // namespace tb::ui
