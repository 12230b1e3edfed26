#include "folder_field.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>

#include "ui_texts.h"

namespace tb::ui {

QWidget* folderField(QLineEdit* edit, QWidget* dialogParent) {
    auto* w = new QWidget;
    auto* h = new QHBoxLayout(w);
    h->setContentsMargins(0, 0, 0, 0);
    auto* browse = new QPushButton;
    (new UiTexts(browse, "tb::ui::FolderField"))->set(browse, "text", QT_TRANSLATE_NOOP("tb::ui::FolderField", "Browse…"));
    QObject::connect(browse, &QPushButton::clicked, dialogParent, [edit, dialogParent] {
        auto dir = QFileDialog::getExistingDirectory(dialogParent, QString(), edit->text());
        if (!dir.isEmpty()) edit->setText(dir);
    });
    h->addWidget(edit, 1);
    h->addWidget(browse);
    return w;
}

}  // namespace tb::ui
