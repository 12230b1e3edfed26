#include "language.h"

#include <QCoreApplication>
#include <QEvent>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

namespace tb::ui {
namespace {
QString g_current = "en";

QTranslator& appTranslator() {
    static auto* t = new QTranslator(QCoreApplication::instance());
    return *t;
}
QTranslator& qtTranslator() {
    static auto* t = new QTranslator(QCoreApplication::instance());
    return *t;
}
}  // namespace

QString defaultLanguage() { return QLocale::system().language() == QLocale::Chinese ? "zh_CN" : "en"; }

QString currentLanguage() { return g_current; }

void applyLanguage(const QString& code) {
    if (code == g_current) return;
    struct Deliver {  // LanguageChange is posted: deliver it now, so the switch is complete on return
        ~Deliver() { QCoreApplication::sendPostedEvents(nullptr, QEvent::LanguageChange); }
    } deliver;
    QCoreApplication::removeTranslator(&appTranslator());
    QCoreApplication::removeTranslator(&qtTranslator());
    g_current = "en";
    if (code != "zh_CN") return;
    // ours is compiled into the binary; Qt's (wizard buttons, file dialogs) comes with
    // qt6-translations-l10n when installed
    if (appTranslator().load(":/i18n/tunebench_zh_CN.qm")) QCoreApplication::installTranslator(&appTranslator());
    if (qtTranslator().load("qtbase_zh_CN", QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(&qtTranslator());
    g_current = code;
}

}  // namespace tb::ui
