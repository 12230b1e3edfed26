#include "eval/text_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "eval/jieba_segmenter.h"
#include "tokenizer/utf8.h"

namespace tb::eval {
namespace {

bool is_cjk(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF);
}

std::map<std::u32string, int> ngram_counts(const std::u32string& s, size_t n) {
    std::map<std::u32string, int> c;
    for (size_t i = 0; i + n <= s.size(); ++i) ++c[s.substr(i, n)];
    return c;
}

// Python's str.split(): runs of whitespace separate, none are empty.
std::vector<std::u32string> split_whitespace(const std::u32string& s) {
    std::vector<std::u32string> out;
    for (size_t i = 0; i < s.size();) {
        while (i < s.size() && utf8::is_python_space(s[i])) ++i;
        size_t j = i;
        while (j < s.size() && !utf8::is_python_space(s[j])) ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// re.sub(pattern, r"\1\n\2", s) for a fixed-length pattern whose first group is `head` long and
// whose second group is one character: matches(s, p) says whether it matches at p.
template <class F>
std::u32string break_after(const std::u32string& s, size_t head, F&& matches) {
    std::u32string out;
    for (size_t p = 0; p < s.size();) {
        if (p + head < s.size() && matches(p)) {
            out.append(s, p, head);
            out += U'\n';
            out += s[p + head];
            p += head + 1;
        } else {
            out += s[p++];
        }
    }
    return out;
}

// rouge_chinese's rouge_n: n-grams as sets, f = 2pr / (p + r + 1e-8)
double rouge_n(const std::vector<std::u32string>& hyp, const std::vector<std::u32string>& ref, size_t n) {
    auto grams = [n](const std::vector<std::u32string>& s) {
        std::set<std::vector<std::u32string>> g;
        for (size_t i = 0; i + n <= s.size(); ++i) g.emplace(s.begin() + i, s.begin() + i + n);
        return g;
    };
    const auto h = grams(hyp), r = grams(ref);
    size_t overlap = 0;
    for (const auto& g : h) overlap += r.count(g);
    const double p = h.empty() ? 0.0 : static_cast<double>(overlap) / h.size();
    const double rc = r.empty() ? 0.0 : static_cast<double>(overlap) / r.size();
    return 2.0 * ((p * rc) / (p + rc + 1e-8));
}

// rouge_chinese's rouge_l_summary_level: the LCS of all words, f = 2pr / (p + r + 1e-8)
double rouge_l(const std::vector<std::u32string>& hyp, const std::vector<std::u32string>& ref) {
    std::vector<size_t> prev(hyp.size() + 1, 0), cur(hyp.size() + 1, 0);
    for (size_t i = 1; i <= ref.size(); ++i) {
        for (size_t j = 1; j <= hyp.size(); ++j)
            cur[j] = ref[i - 1] == hyp[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
        std::swap(prev, cur);
    }
    const double lcs = static_cast<double>(prev[hyp.size()]);
    const double r = lcs / ref.size(), p = lcs / hyp.size();
    return 2.0 * ((p * r) / (p + r + 1e-8));
}

Rouge rouge(const std::vector<std::u32string>& hyp, const std::vector<std::u32string>& ref) {
    Rouge s;
    s.rouge1 = 100 * rouge_n(hyp, ref, 1);
    s.rouge2 = 100 * rouge_n(hyp, ref, 2);
    s.rougeL = 100 * rouge_l(hyp, ref);
    return s;
}

std::u32string joined(const std::vector<std::u32string>& words) {
    std::u32string s;
    for (size_t i = 0; i < words.size(); ++i) s += (i ? U" " : U"") + words[i];
    return s;
}

}  // namespace

std::vector<std::u32string> character_tokens(const std::u32string& text) {
    std::vector<std::u32string> out;
    std::u32string word;
    auto flush = [&] {
        if (!word.empty()) out.push_back(word);
        word.clear();
    };
    for (char32_t c : text) {
        if (utf8::is_python_space(c)) {
            flush();
        } else if (is_cjk(c)) {
            flush();
            out.emplace_back(1, c);
        } else {
            word += c;
        }
    }
    flush();
    return out;
}

std::vector<std::u32string> rouge_chinese_words(const std::vector<std::u32string>& words) {
    // Rouge.cut_sent: a newline after sentence ends, then rstrip and split at newlines
    auto end_mark = [](char32_t c) { return c == U'。' || c == U'！' || c == U'？' || c == U'?'; };
    auto quote = [](char32_t c) { return c == U'”' || c == U'’'; };
    std::u32string s = joined(words);
    s = break_after(s, 1, [&](size_t p) { return end_mark(s[p]) && !quote(s[p + 1]); });
    s = break_after(s, 6, [&](size_t p) {
        for (size_t k = 0; k < 6; ++k)
            if (s[p + k] != U'.') return false;
        return !quote(s[p + 6]);
    });
    s = break_after(s, 2, [&](size_t p) { return s[p] == U'…' && s[p + 1] == U'…' && !quote(s[p + 2]); });
    s = break_after(s, 2, [&](size_t p) {
        return end_mark(s[p]) && quote(s[p + 1]) && !(s[p + 2] == U'，' || end_mark(s[p + 2]));
    });
    while (!s.empty() && utf8::is_python_space(s.back())) s.pop_back();
    // each non-empty sentence becomes " ".join(sentence.split()), and the words are split(" ")
    std::vector<std::u32string> out;
    for (size_t begin = 0; begin <= s.size();) {
        size_t end = s.find(U'\n', begin);
        if (end == std::u32string::npos) end = s.size();
        if (end > begin) {
            auto w = split_whitespace(s.substr(begin, end - begin));
            if (w.empty()) out.emplace_back();
            for (auto& x : w) out.push_back(std::move(x));
        }
        begin = end + 1;
    }
    return out;
}

// nltk.translate.bleu_score.sentence_bleu(weights 0.25 ×4, SmoothingFunction().method3)
double sentence_bleu4(const std::u32string& ref, const std::u32string& hyp) {
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

double round4(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f", value);  // correctly rounded, as Python's round
    return std::strtod(buf, nullptr);
}

Similarity similarity(const std::string& prediction, const std::string& label, const JiebaSegmenter* jieba) {
    const std::u32string pred = utf8::decode(prediction), ref = utf8::decode(label);
    Similarity s;
    s.bleu4 = 100 * sentence_bleu4(ref, pred);
    const auto hyp_chars = character_tokens(pred), ref_chars = character_tokens(ref);
    if (!hyp_chars.empty() && !ref_chars.empty()) s.characters = rouge(hyp_chars, ref_chars);
    if (jieba) {
        const auto hyp_words = jieba->cut(pred), ref_words = jieba->cut(ref);
        // LLaMA-Factory: all-blank text scores 0 (rouge_chinese would raise)
        if (!split_whitespace(joined(hyp_words)).empty() && !split_whitespace(joined(ref_words)).empty())
            s.words = rouge(rouge_chinese_words(hyp_words), rouge_chinese_words(ref_words));
    }
    return s;
}

}  // namespace tb::eval
