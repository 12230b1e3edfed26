// config.json of a model folder (ChatGLM2/3, LLaMA, Qwen2 keys, rope scaling).
#include "fuzz_support.h"
#include "model/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    tb::fuzz::expect_clean([&] {
        const auto c = tb::ModelConfig::from_json_text(std::string(reinterpret_cast<const char*>(data), size), "config.json");
        tb::ModelConfig::from_json_text(c.to_json_text(), "config.json (written back)");
        c.parameter_count();
    });
    return 0;
}
