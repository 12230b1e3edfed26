#include "adapter_zip.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <quazip/JlCompress.h>
#include <quazip/quazip.h>

namespace tb::ui {
namespace {

const char* const kAdapterFiles[] = {"adapter_config.json", "adapter_model.safetensors"};
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
    QuaZip zip(zipPath);
    if (!zip.open(QuaZip::mdUnzip)) {
        r.message = QObject::tr("%1 is not a readable .zip file").arg(zipPath);
        return r;
    }
    const QStringList names = zip.getFileNameList();
    zip.close();
    for (const auto& n : names) {
        if (n.startsWith('/') || n.contains("..") || n.contains('\\')) {
            r.message = QObject::tr("%1 holds the path '%2', which would leave the target folder: refused").arg(zipPath, n);
            return r;
        }
    }
    for (const char* f : kAdapterFiles) {
        if (!names.contains(f)) {
            r.message = QObject::tr("%1 has no %2 at its top level: not an adapter zip (Export tab → Share adapter writes one)")
                            .arg(zipPath, f);
            return r;
        }
    }
    if (QDir(targetDir).exists() && !QDir(targetDir).isEmpty()) {
        r.message = QObject::tr("%1 already exists and is not empty: choose a new folder").arg(targetDir);
        return r;
    }
    const QString partial = targetDir + ".partial";
    QDir(partial).removeRecursively();
    r.files = JlCompress::extractDir(zipPath, partial);
    if (r.files.size() != names.size()) {
        QDir(partial).removeRecursively();
        r.files.clear();
        r.message = QObject::tr("could not extract %1 (corrupt zip or disk full)").arg(zipPath);
        return r;
    }
    QDir().rmdir(targetDir);
    if (!QDir().rename(partial, targetDir)) {
        r.message = QObject::tr("could not rename %1 to %2").arg(partial, targetDir);
        return r;
    }
    r.ok = true;
    r.message = QObject::tr("adapter imported into %1 (%2 files)").arg(targetDir).arg(names.size());
    return r;
}

}  // namespace tb::ui
