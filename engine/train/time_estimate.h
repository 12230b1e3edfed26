// "How long will it take?" before a run starts: the training tokens of the dataset (read and
// tokenized with the run's template and cutoff), the optimizer steps, the model's FLOPs per
// token, and the matmul throughput of the device measured on the model's own shapes. Rough by
// design (a planning number); the live ETA replaces it once steps are timed. Torch-free header.
#pragma once

#include <cstdint>
#include <string>

#include "train/training_args.h"

namespace tb {

struct TimeEstimate {
    int64_t examples = 0;         // training examples after the val split
    int64_t steps = 0;            // optimizer steps
    double tokens = 0;            // tokens the run processes (padding included)
    double flops_per_token = 0;   // forward + backward (+ recompute), matmuls only
    double device_flops = 0;      // measured matmul FLOP/s on this device and dtype
    double seconds = 0;
    std::string device;
};

TimeEstimate estimate_training_time(const TrainingArgs& args);

}  // namespace tb
