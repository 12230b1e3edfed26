// The interface language: English (the source texts) or 简体中文, switchable while the window is
// open. Installing or removing the translators sends LanguageChange to every widget, and each
// page's UiTexts re-applies its texts.
#pragma once

#include <QString>

namespace tb::ui {

// "zh_CN" on a Chinese system locale, otherwise "en".
QString defaultLanguage();
// "en" or "zh_CN" (Tunebench's own texts and Qt's standard dialogs and wizard buttons).
void applyLanguage(const QString& code);
QString currentLanguage();

}  // namespace tb::ui
