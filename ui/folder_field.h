// A line edit with a "Browse…" button that picks a folder: the pages' one way to ask for one.
#pragma once

class QLineEdit;
class QWidget;

namespace tb::ui {

QWidget* folderField(QLineEdit* edit, QWidget* dialogParent);

}  // namespace tb::ui
