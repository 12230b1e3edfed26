// The first rows of a data table in a QTableWidget: the CSV wizard's and the Datasets tab's
// preview. Returns the column names.
#pragma once

#include <QStringList>
#include <functional>

class QLabel;
class QTableWidget;

namespace tb::data {
struct CsvTable;
}

namespace tb::ui {

QStringList showTablePreview(QTableWidget* view, const data::CsvTable& table, int maxRows);

// Fills `table` from `read`, says "N rows, M columns, encoding E" (or the error and its hint) in
// `info` and previews the first rows; an unreadable file leaves an empty table.
QStringList readAndPreviewTable(data::CsvTable& table, const std::function<data::CsvTable()>& read, QLabel* info,
                                QTableWidget* view, int maxRows);

}  // namespace tb::ui
