// adapter_config.json of a LoRA adapter folder.
#include "adapters/lora_config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("adapter/adapter_config.json", data, size);
    tb::fuzz::expect_clean([&] { tb::LoraConfig::read(path.parent_path()).to_json(); });
    return 0;
}
