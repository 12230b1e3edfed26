// Share an adapter as one .zip and import such a zip (QuaZip): the adapter files, the run's
// training_args.yaml and loss plots, and a model card. Writing goes to a temporary name first
// and importing into a new folder, so a failure never leaves a half-written result.
#pragma once

#include <QString>
#include <QStringList>

namespace tb::ui {

struct ZipResult {
    bool ok = false;
    QString message;  // what was written, or what is wrong and what to do
    QStringList files;
};

// adapterDir: a final adapter or a checkpoint-N folder; the run's YAML and plots are taken from
// it or from its parent run folder.
ZipResult exportAdapterZip(const QString& adapterDir, const QString& zipPath);
// Extracts into targetDir (created; must not exist or be empty) through unzipSafely (links,
// devices, names leaving the folder, duplicates and oversize archives refused). The zip must hold
// adapter_config.json and adapter_model.safetensors at its top level.
ZipResult importAdapterZip(const QString& zipPath, const QString& targetDir);

}  // namespace tb::ui
