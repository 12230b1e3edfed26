#include "eval/text_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "tokenizer/utf8.h"

namespace tb::eval {
namespace {

bool is_cjk(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF);
}

template <class T>
std::map<std::vector<T>, int> ngram_counts(const std::vector<T>& s, size_t n) {
    std::map<std::vector<T>, int> c;
    for (size_t i = 0; i + n <= s.size(); ++i) ++c[std::vector<T>(s.begin() + i, s.begin() + i + n)];
    return c;
}

// pltrdy rouge: n-grams as sets, f = 2pr / (p + r + 1e-8)
double rouge_n(const std::vector<std::string>& hyp, const std::vector<std::string>& ref, size_t n) {
    auto h = ngram_counts(hyp, n), r = ngram_counts(ref, n);
    if (h.empty() || r.empty()) return 0;
    size_t overlap = 0;
    for (const auto& [g, c] : h) overlap += r.count(g);
    const double p = static_cast<double>(overlap) / h.size(), rc = static_cast<double>(overlap) / r.size();
    return 2.0 * (p * rc / (p + rc + 1e-8));
}

// pltrdy rouge-l with its beta = p / r weighting, on one sentence
double rouge_l(const std::vector<std::string>& hyp, const std::vector<std::string>& ref) {
    if (hyp.empty() || ref.empty()) return 0;
    std::vector<size_t> prev(ref.size() + 1, 0), cur(ref.size() + 1, 0);
    for (size_t i = 1; i <= hyp.size(); ++i) {
        for (size_t j = 1; j <= ref.size(); ++j)
            cur[j] = hyp[i - 1] == ref[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
        std::swap(prev, cur);
    }
    const double lcs = static_cast<double>(prev[ref.size()]);
    const double r = lcs / ref.size(), p = lcs / hyp.size();
    const double beta = p / (r + 1e-12);
    return (1 + beta * beta) * r * p / (r + beta * beta * p + 1e-12);
}

}  // namespace

std::vector<char32_t> code_points(const std::string& text) {
    const std::string s = utf8::sanitize(text);
    std::vector<char32_t> out;
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t n = utf8::sequence_length(c);
        char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
        for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += n;
    }
    return out;
}

std::vector<std::string> rouge_tokens(const std::string& text) {
    std::vector<std::string> out;
    std::string word;
    auto flush = [&] {
        if (!word.empty()) out.push_back(word);
        word.clear();
    };
    for (char32_t c : code_points(text)) {
        if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') {
            flush();
        } else if (is_cjk(c)) {
            flush();
            out.push_back(utf8::encode(c));
        } else {
            word += utf8::encode(c);
        }
    }
    flush();
    return out;
}

// nltk.translate.bleu_score.sentence_bleu(weights 0.25 ×4, SmoothingFunction().method3)
double sentence_bleu4(const std::vector<char32_t>& ref, const std::vector<char32_t>& hyp) {
    if (hyp.empty()) return 0;
    double log_sum = 0;
    int zeros = 0;
    for (size_t n = 1; n <= 4; ++n) {
        auto h = ngram_counts(hyp, n), r = ngram_counts(ref, n);
        int64_t matched = 0, total = 0;
        for (const auto& [g, c] : h) {
            total += c;
            auto it = r.find(g);
            if (it != r.end()) matched += std::min(c, it->second);
        }
        if (n == 1 && matched == 0) return 0;  // nltk: no unigram in common → 0
        const double denom = static_cast<double>(std::max<int64_t>(1, total));
        const double p = matched > 0 ? matched / denom : 1.0 / (std::pow(2.0, ++zeros) * denom);
        log_sum += 0.25 * std::log(p);
    }
    const double c = static_cast<double>(hyp.size()), r = static_cast<double>(ref.size());
    const double bp = c > r ? 1.0 : std::exp(1.0 - r / c);
    return bp * std::exp(log_sum);
}

Similarity similarity(const std::string& prediction, const std::string& label) {
    Similarity s;
    const auto hyp = rouge_tokens(prediction), ref = rouge_tokens(label);
    if (!hyp.empty() && !ref.empty()) {
        s.rouge1 = 100 * rouge_n(hyp, ref, 1);
        s.rouge2 = 100 * rouge_n(hyp, ref, 2);
        s.rougeL = 100 * rouge_l(hyp, ref);
    }
    s.bleu4 = 100 * sentence_bleu4(code_points(label), code_points(prediction));
    return s;
}

}  // namespace tb::eval
