// The datasets registered in a folder's dataset_info.json that have a file, for the pages'
// dataset pickers. Torch-free.
#pragma once

#include <QString>
#include <QStringList>

namespace tb::ui {

// Empty with *error set when the folder has no readable dataset_info.json.
QStringList registeredDatasets(const QString& datasetDir, QString* error);

}  // namespace tb::ui
