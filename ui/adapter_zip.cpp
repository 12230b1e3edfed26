#include "adapter_zip.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTemporaryDir>
#include <quazip/JlCompress.h>

#include "safe_unzip.h"

namespace tb::ui {
namespace {

const char* const kAdapterFiles[] = {"adapter_config.json", "adapter_model.safetensors"};
// An adapter (even of a full fine-tune's size) and its run files; far below what fills a disk.
const ZipLimits kAdapterZipLimits{qint64{64} << 30, 1000};
const char* const kRunFiles[] = {"training_args.yaml", "training_loss.svg", "training_eval_loss.svg",
                                 "trainer_state.json", "all_results.json", "README.md"};

// A short model card when the adapter folder has none.
QString modelCard(const QString& adapterDir) {
    QFile f(adapterDir + "/adapter_config.json");
    f.open(QIODevice::ReadOnly);
    const auto c = QJsonDocument::fromJson(f.readAll()).object();
    return QString("# %1\n\nA LoRA adapter trained with Tunebench.\n\n- base model: %2\n- r: %3, alpha: %4, dropout: %5\n"
                   "- target modules: %6\n\nLoad it with PEFT (`PeftModel.from_pretrained(base, folder)`) or in Tunebench "
                   "(Chat tab, adapter picker).\n")
        .arg(QFileInfo(adapterDir).fileName(), c["base_model_name_or_path"].toString())
        .arg(c["r"].toInt())
        .arg(c["lora_alpha"].toDouble())
        .arg(c["lora_dropout"].toDouble())
        .arg(QString(QJsonDocument(c["target_modules"].toArray()).toJson(QJsonDocument::Compact)));
}

}  // namespace

ZipResult exportAdapterZip(const QString& adapterDir, const QString& zipPath) {
    ZipResult r;
    const QDir dir(adapterDir);
    for (const char* f : kAdapterFiles) {
        if (!dir.exists(f)) {
            r.message = QObject::tr("%1 has no %2: choose a final adapter or a checkpoint-N folder").arg(adapterDir, f);
            return r;
        }
        r.files << dir.filePath(f);
    }
    const QDir run = QFileInfo(adapterDir).fileName().startsWith("checkpoint-") ? QDir(adapterDir + "/..") : dir;
    for (const char* f : kRunFiles) {
        if (dir.exists(f)) r.files << dir.filePath(f);
        else if (run.exists(f)) r.files << run.filePath(f);
    }
    const QString tmpDir = zipPath + ".card.partial";
    if (!dir.exists("README.md") && !run.exists("README.md")) {
        QDir().mkpath(tmpDir);
        QFile card(tmpDir + "/README.md");
        if (card.open(QIODevice::WriteOnly)) card.write(modelCard(adapterDir).toUtf8());
        r.files << card.fileName();
    }
    const QString partial = zipPath + ".partial";
    QFile::remove(partial);
    const bool written = JlCompress::compressFiles(partial, r.files);
    QDir(tmpDir).removeRecursively();
    if (!written) {
        QFile::remove(partial);
        r.message = QObject::tr("could not write %1: check that the folder is writable and has space").arg(zipPath);
        return r;
    }
    QFile::remove(zipPath);
    if (!QFile::rename(partial, zipPath)) {
        r.message = QObject::tr("could not rename %1 to %2").arg(partial, zipPath);
        return r;
    }
    r.ok = true;
    r.message = QObject::tr("%1 files written to %2").arg(r.files.size()).arg(zipPath);
    return r;
}

ZipResult importAdapterZip(const QString& zipPath, const QString& targetDir) {
    ZipResult r;
    if (QDir(targetDir).exists() && !QDir(targetDir).isEmpty()) {
        r.message = QObject::tr("%1 already exists and is not empty: choose a new folder").arg(targetDir);
        return r;
    }
    const QString parent = QFileInfo(targetDir).absolutePath();
    if (!QDir().mkpath(parent)) {
        r.message = QObject::tr("could not create %1: check that it is writable").arg(parent);
        return r;
    }
    // Extracted beside the target under a fresh hidden name, then renamed into place.
    QTemporaryDir partial(parent + "/.tunebench-import-XXXXXX");
    if (!partial.isValid()) {
        r.message = QObject::tr("could not create a folder in %1: %2").arg(parent, partial.errorString());
        return r;
    }
    const auto unzipped = unzipSafely(zipPath, partial.path(), kAdapterZipLimits);
    if (!unzipped.ok) {
        r.message = unzipped.message;
        return r;
    }
    for (const char* f : kAdapterFiles) {
        if (!unzipped.files.contains(f)) {
            r.message = QObject::tr("%1 has no %2 at its top level: not an adapter zip (Export tab → Share adapter writes one)")
                            .arg(zipPath, f);
            return r;
        }
    }
    QDir().rmdir(targetDir);
    if (!QDir().rename(partial.path(), targetDir)) {
        r.message = QObject::tr("could not rename %1 to %2").arg(partial.path(), targetDir);
        return r;
    }
    r.ok = true;
    r.files = unzipped.files;
    r.message = QObject::tr("adapter imported into %1 (%2 files)").arg(targetDir).arg(unzipped.files.size());
    return r;
}

}  // namespace tb::ui
