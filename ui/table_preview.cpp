#include "table_preview.h"
#include "error_text.h"

#include <QCoreApplication>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>

#include "core/error.h"
#include "data/csv.h"

namespace tb::ui {

QStringList showTablePreview(QTableWidget* view, const data::CsvTable& table, int maxRows) {
    QStringList header;
    for (const auto& h : table.header) header << QString::fromStdString(h);
    const int shown = static_cast<int>(std::min<size_t>(table.rows.size(), static_cast<size_t>(maxRows)));
    view->clear();
    view->setColumnCount(static_cast<int>(header.size()));
    view->setRowCount(shown);
    view->setHorizontalHeaderLabels(header);
    // a few columns share the width; many keep a readable width and scroll
    view->horizontalHeader()->setSectionResizeMode(header.size() <= 4 ? QHeaderView::Stretch : QHeaderView::Interactive);
    if (header.size() > 4) view->horizontalHeader()->setDefaultSectionSize(180);
    for (int r = 0; r < shown; ++r)
        for (int c = 0; c < header.size(); ++c)
            view->setItem(r, c, new QTableWidgetItem(QString::fromStdString(table.rows[r][c]).left(200)));
    return header;
}

QStringList readAndPreviewTable(data::CsvTable& table, const std::function<data::CsvTable()>& read, QLabel* info,
                                QTableWidget* view, int maxRows) {
    table = {};
    try {
        table = read();
        info->setText(QCoreApplication::translate("TablePreview", "%1 rows, %2 columns, encoding %3")
                          .arg(table.rows.size())
                          .arg(table.header.size())
                          .arg(QString::fromStdString(table.encoding)));
    } catch (const std::exception& e) {
        const auto t = errorText(e);
        info->setText(QCoreApplication::translate("TablePreview", "⚠ %1\n%2").arg(t.message, t.hint));
    }
    return showTablePreview(view, table, maxRows);
}

}  // namespace tb::ui
