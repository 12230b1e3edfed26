// training_loss.svg / training_eval_loss.svg: LLaMA-Factory's plot (extras/ploting.py) — the
// raw points and an EMA with weight 1.8·(sigmoid(0.05·N) − 0.5) — as a self-contained SVG.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tb {

std::vector<double> smooth_ema(const std::vector<double>& values);
// Empty string when log_history has no entry with `key`.
std::string loss_plot_svg(const nlohmann::json& log_history, const std::string& key);

}  // namespace tb
