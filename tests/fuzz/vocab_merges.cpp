// vocab.json + merges.txt (+ added_tokens.json): the input is the three files joined by a line
// "@@@", so the fuzzer can damage each.
#include <string>

#include "tokenizer_use.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    std::string parts[3];
    size_t begin = 0;
    for (int i = 0; i < 3; ++i) {
        const size_t sep = i < 2 ? in.find("\n@@@\n", begin) : std::string::npos;
        parts[i] = in.substr(begin, sep == std::string::npos ? std::string::npos : sep - begin);
        if (sep == std::string::npos) break;
        begin = sep + 5;
    }
    const char* names[3] = {"vocab_merges/vocab.json", "vocab_merges/merges.txt", "vocab_merges/added_tokens.json"};
    std::filesystem::remove(tb::fuzz::scratch() / names[2]);
    for (int i = 0; i < 3; ++i)
        if (i < 2 || !parts[i].empty())
            tb::fuzz::write(names[i], reinterpret_cast<const uint8_t*>(parts[i].data()), parts[i].size());
    tb::fuzz::use_tokenizer(tb::fuzz::scratch() / "vocab_merges");
    return 0;
}
