// tokenizer.model (SentencePiece: LLaMA-2, ChatGLM2/3, Baichuan).
#include "tokenizer_use.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("sentencepiece/tokenizer.model", data, size);
    tb::fuzz::use_tokenizer(path.parent_path());
    return 0;
}
