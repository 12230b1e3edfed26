#include "confirm.h"

#include <QMessageBox>
#include <QPushButton>

namespace tb::ui {
namespace {
std::optional<int> g_answer;
QStringList g_asked;
}  // namespace

bool confirm(QWidget* parent, const QString& title, const QString& question) {
    if (g_answer) {
        g_asked << question;
        return *g_answer != 0;
    }
    return QMessageBox::question(parent, title, question, QMessageBox::Yes | QMessageBox::No, QMessageBox::No) ==
           QMessageBox::Yes;
}

int choose(QWidget* parent, const QString& title, const QString& question, const QStringList& answers, int defaultAnswer) {
    if (g_answer) {
        g_asked << question;
        return *g_answer;
    }
    QMessageBox box(QMessageBox::Question, title, question, QMessageBox::NoButton, parent);
    QList<QPushButton*> buttons;
    for (const auto& a : answers) buttons << box.addButton(a, QMessageBox::ActionRole);
    if (defaultAnswer >= 0 && defaultAnswer < buttons.size()) box.setDefaultButton(buttons[defaultAnswer]);
    box.exec();
    return static_cast<int>(buttons.indexOf(static_cast<QPushButton*>(box.clickedButton())));
}

void answerQuestionsForTests(std::optional<int> answer) {
    g_answer = answer;
    g_asked.clear();
}

QStringList questionsAskedForTests() { return g_asked; }

}  // namespace tb::ui
