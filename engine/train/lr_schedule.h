// HF transformers' learning-rate schedules (optimization.py) as multipliers of the base rate.
// lr_factor(k) is the factor in force for optimizer step k+1, and the one HF logs after step k.
#pragma once

#include <cstdint>
#include <string>

namespace tb {

struct LrSchedule {
    std::string type = "linear";  // linear | cosine | constant | constant_with_warmup | cosine_with_restarts
    int64_t warmup_steps = 0;
    int64_t total_steps = 1;
    double num_cycles = -1;  // -1: the schedule's default (0.5 cosine, 1 restarts)

    double factor(int64_t step) const;
};

// warmup_steps when > 0, else ceil(warmup_ratio × total) (TrainingArguments.get_warmup_steps).
int64_t warmup_steps_for(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

}  // namespace tb
