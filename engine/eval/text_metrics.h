// The similarity scores LLaMA-Factory reports for generation (train/sft/metric.py
// ComputeSimilarity, ×100): BLEU-4 as nltk's sentence_bleu over characters with smoothing
// method3, and ROUGE-1/2/L F-scores as rouge_chinese's Rouge().get_scores computes them over the
// jieba words of each text. Beside them the same ROUGE over characters (each CJK character one
// token, other text split at spaces): it needs no dictionary but is not comparable with
// LLaMA-Factory's numbers. Torch-free.
#pragma once

#include <string>
#include <vector>

namespace tb::eval {

class JiebaSegmenter;

struct Rouge {
    double rouge1 = 0, rouge2 = 0, rougeL = 0;  // F-scores, 0…100
};

struct Similarity {
    double bleu4 = 0;  // 0…100, over characters (as LLaMA-Factory)
    Rouge words;       // over jieba words: LLaMA-Factory's (zero without a segmenter)
    Rouge characters;  // over characters
};

// One prediction against its label; ROUGE by words only when jieba is given.
Similarity similarity(const std::string& prediction, const std::string& label, const JiebaSegmenter* jieba);

// The character ROUGE's tokens: each CJK character alone, other runs split at whitespace.
std::vector<std::u32string> character_tokens(const std::u32string& text);
// The words rouge_chinese scores for " ".join(words): its sentence cut (cut_sent), then each
// sentence's whitespace-separated words; a blank sentence counts as one empty word, as it does there.
std::vector<std::u32string> rouge_chinese_words(const std::vector<std::u32string>& words);

// nltk.translate.bleu_score.sentence_bleu([reference], hypothesis, smoothing method3), 0…1
double sentence_bleu4(const std::u32string& reference, const std::u32string& hypothesis);
// Python's round(value, 4), as LLaMA-Factory rounds each sample's score.
double round4(double value);

}  // namespace tb::eval
