#include "safe_unzip.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QObject>
#include <QSet>
#include <QStorageInfo>
#include <quazip/quazip.h>
#include <quazip/quazipfile.h>
#include <quazip/quazipfileinfo.h>

namespace tb::ui {
namespace {

constexpr quint32 kUnixTypeMask = 0170000, kUnixRegular = 0100000, kUnixDirectory = 0040000, kUnixLink = 0120000;
constexpr int kMadeByUnix = 3;

UnzipResult refuse(const QString& message) {
    UnzipResult r;
    r.message = message;
    return r;
}

// Why `name` may not be extracted, or an empty string. Names are checked as written in the
// archive and again after Qt's path cleaning, so no spelling of `..` or `/` gets through.
QString badName(const QString& name) {
    if (name.isEmpty()) return QObject::tr("an entry without a name");
    if (name.contains(QChar(0)) || name.contains('\\') || name.contains(':'))
        return QObject::tr("a name with \\ or : ('%1')").arg(name);
    if (name.startsWith('/')) return QObject::tr("an absolute path ('%1')").arg(name);
    for (const auto& part : name.split('/', Qt::SkipEmptyParts))
        if (part == ".." || part == ".") return QObject::tr("a path with '%1' ('%2')").arg(part, name);
    const QString clean = QDir::cleanPath(name);
    if (clean.startsWith("..") || clean.startsWith('/') || clean == ".") return QObject::tr("a path that leaves the folder ('%1')").arg(name);
    return {};
}

}  // namespace

UnzipResult unzipSafely(const QString& zipPath, const QString& targetDir, const ZipLimits& limits,
                        const std::function<bool(const QString&)>& wanted) {
    QFile file(zipPath);
    if (!file.open(QIODevice::ReadOnly)) return refuse(QObject::tr("%1 cannot be read: %2").arg(zipPath, file.errorString()));
    return unzipSafely(&file, zipPath, targetDir, limits, wanted);
}

UnzipResult unzipSafely(QIODevice* zipData, const QString& label, const QString& targetDir, const ZipLimits& limits,
                        const std::function<bool(const QString&)>& wanted) {
    QuaZip zip(zipData);
    if (!zip.open(QuaZip::mdUnzip)) return refuse(QObject::tr("%1 is not a readable .zip file").arg(label));
    const QList<QuaZipFileInfo64> infos = zip.getFileInfoList64();
    if (zip.getZipError() != UNZ_OK) return refuse(QObject::tr("%1 is damaged: its list of files cannot be read").arg(label));
    if (infos.size() > limits.maxEntries)
        return refuse(QObject::tr("%1 holds %2 entries, more than the %3 accepted: refused").arg(label).arg(infos.size()).arg(limits.maxEntries));

    // 1. Check every entry before writing anything.
    QStringList files;
    QSet<QString> seen, directories;
    qint64 total = 0;
    for (const auto& info : infos) {
        const bool unixMade = (info.versionCreated >> 8) == kMadeByUnix;
        const quint32 type = unixMade ? (info.externalAttr >> 16) & kUnixTypeMask : 0;
        const bool isDir = info.name.endsWith('/') || type == kUnixDirectory;
        if (type == kUnixLink)
            return refuse(QObject::tr("%1 holds a symbolic link ('%2'): refused, a shared adapter or dataset has none").arg(label, info.name));
        if (type != 0 && type != kUnixRegular && type != kUnixDirectory)
            return refuse(QObject::tr("%1 holds a device or special file ('%2'): refused").arg(label, info.name));
        if (const QString why = badName(info.name); !why.isEmpty())
            return refuse(QObject::tr("%1 holds %2, which would leave the target folder: refused").arg(label, why));
        const QString clean = QDir::cleanPath(info.name);
        if (seen.contains(clean) || (isDir ? false : directories.contains(clean)))
            return refuse(QObject::tr("%1 holds '%2' twice: refused (which one is meant?)").arg(label, clean));
        seen.insert(clean);
        for (int slash = clean.indexOf('/'); slash > 0; slash = clean.indexOf('/', slash + 1)) directories.insert(clean.left(slash));
        if (isDir) {
            directories.insert(clean);
            continue;
        }
        if (info.uncompressedSize < 0 || info.uncompressedSize > limits.maxTotalBytes - total)
            return refuse(QObject::tr("%1 would unpack to more than %2 MB: refused").arg(label).arg(limits.maxTotalBytes >> 20));
        total += info.uncompressedSize;
        if (!wanted || wanted(clean)) files << clean;
    }
    for (const auto& f : files)
        if (directories.contains(f)) return refuse(QObject::tr("%1 holds '%2' both as a file and as a folder: refused").arg(label, f));

    // 2. Extract into a folder that holds nothing yet, counting the bytes actually inflated.
    const QDir target(targetDir);
    const bool made = !target.exists();
    if (!made && !target.isEmpty()) return refuse(QObject::tr("%1 already exists and is not empty: choose a new folder").arg(targetDir));
    if (made && !QDir().mkpath(targetDir)) return refuse(QObject::tr("could not create %1: check that its parent is writable").arg(targetDir));
    const QStorageInfo disk(targetDir);
    if (disk.isValid() && disk.bytesAvailable() >= 0 && disk.bytesAvailable() < total) {
        if (made) QDir(targetDir).removeRecursively();
        return refuse(QObject::tr("%1 needs %2 MB but %3 has %4 MB free").arg(label).arg(total >> 20).arg(targetDir).arg(disk.bytesAvailable() >> 20));
    }
    auto fail = [&](const QString& message) {
        if (made) QDir(targetDir).removeRecursively();
        else
            for (const auto& entry : QDir(targetDir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden))
                QFileInfo(targetDir + "/" + entry).isDir() ? QDir(targetDir + "/" + entry).removeRecursively() : QFile::remove(targetDir + "/" + entry);
        return refuse(message);
    };
    QByteArray buffer(1 << 20, Qt::Uninitialized);
    for (const auto& info : infos) {
        const QString clean = QDir::cleanPath(info.name);
        if (!files.contains(clean)) continue;
        const QString outPath = target.filePath(clean);
        if (!QDir().mkpath(QFileInfo(outPath).path())) return fail(QObject::tr("could not create the folder for %1").arg(outPath));
        QFile out(outPath);
        if (!out.open(QIODevice::WriteOnly | QIODevice::NewOnly))
            return fail(QObject::tr("could not create %1: %2").arg(outPath, out.errorString()));
        if (!zip.setCurrentFile(info.name)) return fail(QObject::tr("%1 is damaged: '%2' cannot be found").arg(label, info.name));
        QuaZipFile in(&zip);
        if (!in.open(QIODevice::ReadOnly)) return fail(QObject::tr("%1 is damaged or encrypted: '%2' cannot be read").arg(label, info.name));
        qint64 written = 0;
        while (true) {
            const qint64 n = in.read(buffer.data(), buffer.size());
            if (n < 0) return fail(QObject::tr("%1 is damaged: '%2' cannot be inflated").arg(label, info.name));
            if (n == 0) break;
            written += n;
            if (written > info.uncompressedSize)
                return fail(QObject::tr("%1 is damaged or crafted: '%2' holds more than the %3 bytes it declares").arg(label, info.name).arg(info.uncompressedSize));
            if (out.write(buffer.constData(), n) != n)
                return fail(QObject::tr("could not write %1: %2 (disk full?)").arg(outPath, out.errorString()));
        }
        in.close();
        if (in.getZipError() != UNZ_OK || written != info.uncompressedSize)
            return fail(QObject::tr("%1 is damaged: '%2' fails its checksum or is shorter than declared").arg(label, info.name));
        if (!out.flush()) return fail(QObject::tr("could not write %1: %2 (disk full?)").arg(outPath, out.errorString()));
    }
    UnzipResult r;
    r.ok = true;
    r.files = files;
    return r;
}

}  // namespace tb::ui
