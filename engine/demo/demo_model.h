// The embedded demo: a tiny ChatGLM-architecture model (random weights) with a SentencePiece
// tokenizer trained on the project's own demo text, plus that text as an alpaca dataset with its
// dataset_info.json. Nothing is downloaded.
#pragma once

#include <filesystem>
#include <string_view>

namespace tb {

// Shipped: the tokenizer compiled in from datasets/demo/tunebench_demo_tokenizer.model, the same
// on every machine and without running SentencePiece's trainer (whose logging crashes under
// RTLD_DEEPBIND on toolchains that link libstdc++ statically; spm_shim.cpp). Train: trains it
// again from the demo text with libsentencepiece — how the shipped file is made.
enum class DemoTokenizer { Shipped, Train };

// Writes DIR/model (HF folder) and DIR/data (dataset_info.json + demo dataset). Idempotent with
// the shipped tokenizer: an existing complete demo is left as it is. Returns DIR/model.
std::filesystem::path init_demo(const std::filesystem::path& dir, DemoTokenizer tokenizer = DemoTokenizer::Shipped);

// The bytes of the shipped demo tokenizer.model (demo_tokenizer.cpp, generated).
std::string_view embedded_demo_tokenizer();

}  // namespace tb
