// Issue 16 item 10: an exception that is not a tb::Error reaching the event loop is caught and
// shown, and the program keeps running.
#include <gtest/gtest.h>

#include <QEvent>
#include <QTimer>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "error_text.h"
#include "guarded_application.h"

namespace {

class Thrower : public QObject {
public:
    bool event(QEvent* e) override {
        if (e->type() == QEvent::User) (void)nlohmann::json::parse("[1]").at(5);  // nlohmann's out_of_range
        if (e->type() == QEvent::User + 1) throw 42;                                 // not even a std::exception
        return QObject::event(e);
    }
};

}  // namespace

TEST(GuardedApplication, ExceptionsFromEventsAreCaughtAndTheLoopGoesOn) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    int argc = 1;
    char name[] = "test";
    char* argv[] = {name, nullptr};
    tb::ui::GuardedApplication app(argc, argv);
    Thrower t;
    QCoreApplication::postEvent(&t, new QEvent(QEvent::User));
    QCoreApplication::postEvent(&t, new QEvent(static_cast<QEvent::Type>(QEvent::User + 1)));
    bool ranAfter = false;
    QTimer::singleShot(50, [&] {
        ranAfter = true;
        QCoreApplication::quit();
    });
    EXPECT_EQ(QCoreApplication::exec(), 0);
    EXPECT_TRUE(ranAfter);
    EXPECT_EQ(app.caughtExceptions(), 2);
}

TEST(ErrorText, LibraryExceptionsGetTheirTextAndAHint) {
    const auto t = tb::ui::errorText(std::runtime_error("yaml-cpp: bad conversion"));
    EXPECT_EQ(t.message.toStdString(), "yaml-cpp: bad conversion");
    EXPECT_FALSE(t.hint.isEmpty());
}
