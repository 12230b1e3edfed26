// The similarity scores LLaMA-Factory reports for generation (train/sft/metric.py
// ComputeSimilarity, ×100): BLEU-4 as nltk's sentence_bleu over characters with smoothing
// method3, and ROUGE-1/2/L F-scores as the `rouge` / `rouge_chinese` packages compute them over
// tokens. LLaMA-Factory cuts Chinese into words with jieba; Tunebench has no jieba and scores
// ROUGE over tokens where every CJK character is one token and other text splits at spaces
// (so Chinese ROUGE here is character-level). Torch-free.
#pragma once

#include <string>
#include <vector>

namespace tb::eval {

struct Similarity {
    double bleu4 = 0, rouge1 = 0, rouge2 = 0, rougeL = 0;  // 0…100
};

// Unicode code points of UTF-8 text (invalid bytes become U+FFFD).
std::vector<char32_t> code_points(const std::string& text);
// ROUGE tokens: each CJK character alone, other runs split at whitespace.
std::vector<std::string> rouge_tokens(const std::string& text);

double sentence_bleu4(const std::vector<char32_t>& reference, const std::vector<char32_t>& hypothesis);
Similarity similarity(const std::string& prediction, const std::string& label);

}  // namespace tb::eval
