// The embedded demo: a tiny ChatGLM-architecture model (random weights) with a SentencePiece
// tokenizer trained by libsentencepiece on the project's own demo text, plus that text as an
// alpaca dataset with its dataset_info.json. Nothing is downloaded.
#pragma once

#include <filesystem>

namespace tb {

// Writes DIR/model (HF folder) and DIR/data (dataset_info.json + demo dataset). Idempotent:
// an existing complete demo is left as it is. Returns DIR/model.
std::filesystem::path init_demo(const std::filesystem::path& dir);

}  // namespace tb
