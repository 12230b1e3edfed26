// Training and chat YAML configs (LLaMA-Factory's keys).
#include "fuzz_support.h"
#include "infer/inference_args.h"
#include "train/training_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("config.yaml", data, size);
    tb::fuzz::expect_clean([&] {
        const auto args = tb::read_yaml_args(path);
        tb::fuzz::expect_clean([&] { tb::TrainingArgs::from_map(args); });
        tb::fuzz::expect_clean([&] { tb::InferenceArgs::from_map(args); });
    });
    return 0;
}
