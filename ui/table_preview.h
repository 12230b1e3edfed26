// The first rows of a data table in a QTableWidget: the CSV wizard's and the Datasets tab's
// preview. Returns the column names.
#pragma once

#include <QStringList>

class QTableWidget;

namespace tb::data {
struct CsvTable;
}

namespace tb::ui {

QStringList showTablePreview(QTableWidget* view, const data::CsvTable& table, int maxRows);

}  // namespace tb::ui
