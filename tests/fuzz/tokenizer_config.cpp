// tokenizer_config.json beside a valid tokenizer (the demo's SentencePiece model): special
// tokens, add_bos_token, added_tokens_decoder, chat_template and name_or_path of any type.
#include <filesystem>

#include "model/model_config.h"
#include "tokenizer/chat_template.h"
#include "tokenizer_use.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool ready = [] {  // TB_DEMO_TOKENIZER: datasets/demo/tunebench_demo_tokenizer.model
        std::filesystem::create_directories(tb::fuzz::scratch() / "tokenizer_config");
        std::filesystem::copy_file(TB_DEMO_TOKENIZER, tb::fuzz::scratch() / "tokenizer_config/tokenizer.model",
                                   std::filesystem::copy_options::overwrite_existing);
        return true;
    }();
    (void)ready;
    const auto path = tb::fuzz::write("tokenizer_config/tokenizer_config.json", data, size);
    tb::fuzz::use_tokenizer(path.parent_path());
    tb::fuzz::expect_clean([&] {
        auto tok = tb::load_tokenizer(path.parent_path(), nullptr);
        tb::ModelConfig config;
        tb::detect_template(path.parent_path(), config, *tok);
    });
    return 0;
}
