#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace tb {

double LrSchedule::factor(int64_t step) const {
    const double s = static_cast<double>(step), w = static_cast<double>(warmup_steps);
    if (type == "constant") return 1.0;
    if (step < warmup_steps) return s / std::max(1.0, w);
    if (type == "constant_with_warmup") return 1.0;
    const double rest = std::max(1.0, static_cast<double>(total_steps - warmup_steps));
    if (type == "linear") return std::max(0.0, (total_steps - s) / rest);
    const double progress = (s - w) / rest;
    if (type == "cosine") {
        const double cycles = num_cycles < 0 ? 0.5 : num_cycles;
        return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * cycles * 2.0 * progress)));
    }
    // cosine_with_restarts
    const double cycles = num_cycles < 0 ? 1.0 : num_cycles;
    if (progress >= 1.0) return 0.0;
    return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * std::fmod(cycles * progress, 1.0))));
}

int64_t warmup_steps_for(int64_t warmup_steps, double warmup_ratio, int64_t total_steps) {
    if (warmup_steps > 0) return warmup_steps;
    return static_cast<int64_t>(std::ceil(warmup_ratio * static_cast<double>(total_steps)));
}

}  // namespace tb
