// Extracting a .zip a user picked (an adapter shared by a colleague, a dataset archive) without
// trusting it: every entry is checked before anything is written — links, devices, absolute or
// `..` names, duplicates and sizes over a limit are refused — and the bytes actually inflated are
// counted against the declared size, so a crafted archive can neither write outside the target
// folder nor fill the disk or memory.
#pragma once

#include <QString>
#include <QStringList>

#include <functional>

class QIODevice;

namespace tb::ui {

struct ZipLimits {
    qint64 maxTotalBytes;  // all extracted entries together
    int maxEntries = 10000;
};

struct UnzipResult {
    bool ok = false;
    QString message;     // what is wrong and what to do, when !ok
    QStringList files;   // names of the regular files extracted (relative to the target)
};

// Extracts the regular files `wanted` accepts (all when empty) into targetDir, which must not
// exist or be empty; on any failure targetDir is left as it was (removed if this call made it).
UnzipResult unzipSafely(const QString& zipPath, const QString& targetDir, const ZipLimits& limits,
                        const std::function<bool(const QString&)>& wanted = {});
// The same from an open device; `label` names the archive in messages (fuzzing, tests).
UnzipResult unzipSafely(QIODevice* zipData, const QString& label, const QString& targetDir, const ZipLimits& limits,
                        const std::function<bool(const QString&)>& wanted = {});

}  // namespace tb::ui
