// The GUI's argument maps (QVariantMap, LLaMA-Factory keys) as the engine's ArgMap of strings.
#pragma once

#include <QVariantMap>

#include "infer/inference_args.h"

namespace tb::ui {

// skipEmpty: leave out keys whose value is empty (an optional field the user left blank)
inline ArgMap toArgMap(const QVariantMap& args, bool skipEmpty = false) {
    ArgMap map;
    for (auto it = args.begin(); it != args.end(); ++it) {
        const QString v = it.value().toString();
        if (!skipEmpty || !v.isEmpty()) map[it.key().toStdString()] = v.toStdString();
    }
    return map;
}

}  // namespace tb::ui
