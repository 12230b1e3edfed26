// The GUI's argument maps (QVariantMap, LLaMA-Factory keys) as the engine's ArgMap of strings.
#pragma once

#include <QVariantMap>

#include "infer/inference_args.h"

namespace tb::ui {

inline ArgMap toArgMap(const QVariantMap& args) {
    ArgMap map;
    for (auto it = args.begin(); it != args.end(); ++it) map[it.key().toStdString()] = it.value().toString().toStdString();
    return map;
}

}  // namespace tb::ui
