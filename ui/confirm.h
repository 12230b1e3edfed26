// Asking the user before anything they made is replaced or a running job is stopped. One place,
// so tests (offscreen, no one to click) can give the answer.
#pragma once

#include <QString>
#include <QStringList>

#include <optional>

class QWidget;

namespace tb::ui {

// Yes/No question; No is the default button.
bool confirm(QWidget* parent, const QString& title, const QString& question);
// Several answers (e.g. Stop & save / Keep running / Cancel): the index chosen, -1 when closed.
int choose(QWidget* parent, const QString& title, const QString& question, const QStringList& answers, int defaultAnswer);

// Tests: every later question gets this answer (true/false, or the index for choose) instead
// of a dialog; nullopt restores the dialogs. The questions asked are recorded.
void answerQuestionsForTests(std::optional<int> answer);
QStringList questionsAskedForTests();

}  // namespace tb::ui
