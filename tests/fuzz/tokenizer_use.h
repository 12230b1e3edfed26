// Loads the tokenizer a folder holds and uses it as training and chat do.
#pragma once

#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"

namespace tb::fuzz {

inline void use_tokenizer(const std::filesystem::path& folder) {
    expect_clean([&] {
        auto tok = tb::load_tokenizer(folder, nullptr);
        const auto ids = tok->encode("Hello, 世界! <|im_end|> \xF0\x9F\x98\x80  12345\n\tend");
        tok->decode(ids);
        tok->decode({0, 1, 2, tok->vocab_size() - 1, tok->vocab_size(), -1}, false);
        tok->token_to_id("<s>");
        for (int64_t id : {int64_t{0}, tok->vocab_size() - 1, tok->vocab_size() + 5}) tok->is_special(id);
    });
}

}  // namespace tb::fuzz
