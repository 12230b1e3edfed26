#include "dataset_list.h"
#include "error_text.h"

#include "core/error.h"
#include "data/dataset_registry.h"

namespace tb::ui {

QStringList registeredDatasets(const QString& datasetDir, QString* error) {
    QStringList names;
    try {
        for (const auto& [name, attr] : data::read_dataset_info(datasetDir.toStdString()))
            if (!attr.file_name.empty()) names << QString::fromStdString(name);
    } catch (const std::exception& e) {
        if (error) *error = errorText(e).message;
    }
    return names;
}

}  // namespace tb::ui
