// tokenizer.json (byte-level BPE: Qwen, LLaMA-3; LLaMA-2's converted layout).
#include "tokenizer_use.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("tokenizer_json/tokenizer.json", data, size);
    tb::fuzz::use_tokenizer(path.parent_path());
    return 0;
}
