// jieba/__init__.py (Tokenizer.cut, get_DAG, calc, __cut_DAG) and jieba/finalseg/__init__.py
// (cut, viterbi) of jieba 0.42.1, step for step: ties and float sums are taken in Python's order
// so that every word boundary is the same.
#include "eval/jieba_segmenter.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "core/error.h"
#include "core/install_paths.h"
#include "io/atomic_file.h"
#include "tokenizer/utf8.h"

#ifndef TB_JIEBA_BUILD_DIR  // set by engine/CMakeLists.txt where jieba's data was found
#define TB_JIEBA_BUILD_DIR ""
#define TB_JIEBA_INSTALL_DIR ""
#endif

namespace tb::eval {
namespace fs = std::filesystem;
namespace {

constexpr double kMinFloat = -3.14e100;  // finalseg's MIN_FLOAT
enum State { B, E, M, S, kStates };      // in the order Python compares their letters

// re_han_default: "([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)"
bool is_han_default(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FD5) || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') ||
           (c >= U'0' && c <= U'9') || c == U'+' || c == U'#' || c == U'&' || c == U'.' || c == U'_' || c == U'%' ||
           c == U'-';
}
bool is_han(char32_t c) { return c >= 0x4E00 && c <= 0x9FD5; }  // finalseg's re_han
bool is_alnum(char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9'); }
bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }  // \d; only ASCII reaches finalseg

// The Python dict literals of finalseg/prob_*.py: {'key': number or {…}, …}, keys quoted with
// \uXXXX escapes. Just enough of Python's syntax for these three files.
class PyDictReader {
public:
    PyDictReader(std::string text, std::string file) : s_(std::move(text)), file_(std::move(file)) {
        p_ = s_.find("P=");
        if (p_ == std::string::npos) fail("no `P=` assignment");
        p_ += 2;
    }
    void expect(char c) {
        skip();
        if (p_ >= s_.size() || s_[p_] != c) fail(std::string("expected '") + c + "'");
        ++p_;
    }
    bool next_is(char c) {
        skip();
        return p_ < s_.size() && s_[p_] == c;
    }
    // Reads "key: value" pairs of one dict, calling on_pair(key) with the value unread.
    template <class F>
    void dict(F&& on_pair) {
        expect('{');
        while (!next_is('}')) {
            const std::u32string key = string();
            expect(':');
            on_pair(key);
            if (!next_is(',')) break;
            ++p_;
        }
        expect('}');
    }
    double number() {
        skip();
        char* end = nullptr;
        const double v = std::strtod(s_.c_str() + p_, &end);
        if (end == s_.c_str() + p_) fail("expected a number");
        p_ = static_cast<size_t>(end - s_.c_str());
        return v;
    }
    std::u32string string() {
        expect('\'');
        std::string utf8;
        while (p_ < s_.size() && s_[p_] != '\'') {
            if (s_[p_] == '\\' && p_ + 5 < s_.size() && s_[p_ + 1] == 'u') {
                const std::string hex = s_.substr(p_ + 2, 4);
                if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) fail("a \\u escape without 4 hex digits");
                utf8 += utf8::encode(static_cast<char32_t>(std::stoul(hex, nullptr, 16)));
                p_ += 6;
            } else if (s_[p_] == '\\') {
                fail("an escape other than \\uXXXX");
            } else {
                utf8 += s_[p_++];
            }
        }
        expect('\'');
        return utf8::decode(utf8);
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw FileError(file_ + ": " + what + " at byte " + std::to_string(p_),
                        "reinstall jieba 0.42.1's data (Debian's python3-jieba) or set TUNEBENCH_JIEBA_DIR");
    }

private:
    void skip() {
        while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
    }
    std::string s_, file_;
    size_t p_ = 0;
};

State state_of(const std::u32string& key, PyDictReader& r) {
    if (key.size() == 1) switch (key[0]) {
            case U'B': return B;
            case U'E': return E;
            case U'M': return M;
            case U'S': return S;
        }
    r.fail("a state other than B, E, M, S");
}

std::string read_data_file(const fs::path& p) {
    if (!fs::is_regular_file(p))
        throw FileError(p.string() + " is missing (jieba's data)",
                        "install Debian's python3-jieba or set TUNEBENCH_JIEBA_DIR to a folder with jieba's files");
    return io::read_file(p);
}

}  // namespace

struct JiebaSegmenter::Data {
    // The prefix dictionary as a trie: node 0 is the root; freq > 0 marks a word, 0 a prefix only.
    std::vector<int64_t> freq{0};
    std::unordered_map<uint64_t, uint32_t> child;  // (node << 21 | code point) → node
    double log_total = 0;
    double start[kStates]{}, trans[kStates][kStates];
    std::unordered_map<char32_t, double> emit[kStates];

    int64_t next(int64_t node, char32_t c) const {
        auto it = child.find(static_cast<uint64_t>(node) << 21 | c);
        return it == child.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
    }
    // FREQ.get(word) or 0
    int64_t frequency(const std::u32string& w, size_t begin, size_t end) const {
        int64_t node = 0;
        for (size_t i = begin; i < end && node >= 0; ++i) node = next(node, w[i]);
        return node >= 0 ? freq[node] : 0;
    }

    void cut_dag(const std::u32string& s, std::vector<std::u32string>& out) const;
    void cut_hmm_runs(const std::u32string& s, std::vector<std::u32string>& out) const;  // finalseg.cut
    void viterbi_cut(const std::u32string& s, std::vector<std::u32string>& out) const;   // finalseg.__cut
};

JiebaSegmenter::JiebaSegmenter(const fs::path& dir) : d_(std::make_unique<Data>()) {
    // gen_pfdict: "word freq [tag]" per line; every prefix of a word is in the dictionary
    const fs::path dict = dir / "dict.txt";
    const std::string text = read_data_file(dict);
    d_->child.reserve(700000);
    d_->freq.reserve(700000);
    int64_t total = 0, line_no = 0;
    for (size_t begin = 0; begin < text.size();) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        ++line_no;
        size_t a = begin, b = end;
        while (a < b && std::isspace(static_cast<unsigned char>(text[a]))) ++a;
        while (b > a && std::isspace(static_cast<unsigned char>(text[b - 1]))) --b;
        begin = end + 1;
        const std::string line = text.substr(a, b - a);
        const size_t sp = line.find(' ');
        const std::string word = line.substr(0, sp);
        const std::string count = sp == std::string::npos ? "" : line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
        char* stop = nullptr;
        const long long f = std::strtoll(count.c_str(), &stop, 10);
        if (word.empty() || count.empty() || *stop != '\0')
            throw FileError(dict.string() + ":" + std::to_string(line_no) + ": expected \"word frequency [tag]\"",
                            "reinstall jieba 0.42.1's dict.txt (Debian's python3-jieba)");
        int64_t node = 0;
        for (char32_t c : utf8::decode(word)) {
            const uint64_t key = static_cast<uint64_t>(node) << 21 | c;
            auto it = d_->child.find(key);
            if (it == d_->child.end()) {
                it = d_->child.emplace(key, static_cast<uint32_t>(d_->freq.size())).first;
                d_->freq.push_back(0);
            }
            node = it->second;
        }
        d_->freq[node] = f;
        total += f;
    }
    if (total <= 0) throw FileError(dict.string() + " has no words", "reinstall jieba's dict.txt");
    d_->log_total = std::log(static_cast<double>(total));

    for (auto& row : d_->trans)
        for (double& v : row) v = kMinFloat;
    const fs::path start_file = dir / "finalseg" / "prob_start.py", trans_file = dir / "finalseg" / "prob_trans.py",
                   emit_file = dir / "finalseg" / "prob_emit.py";
    PyDictReader start(read_data_file(start_file), start_file.string());
    start.dict([&](const std::u32string& k) { d_->start[state_of(k, start)] = start.number(); });
    PyDictReader trans(read_data_file(trans_file), trans_file.string());
    trans.dict([&](const std::u32string& from) {
        const State f = state_of(from, trans);
        trans.dict([&](const std::u32string& to) { d_->trans[f][state_of(to, trans)] = trans.number(); });
    });
    PyDictReader emit(read_data_file(emit_file), emit_file.string());
    emit.dict([&](const std::u32string& state) {
        auto& table = d_->emit[state_of(state, emit)];
        emit.dict([&](const std::u32string& ch) {
            if (ch.size() != 1) emit.fail("an emission key that is not one character");
            table[ch[0]] = emit.number();
        });
    });
    for (const auto& table : d_->emit)
        if (table.empty()) throw FileError(emit_file.string() + " lacks a state's emissions", "reinstall jieba's data");
}

JiebaSegmenter::~JiebaSegmenter() = default;

// Tokenizer.__cut_DAG: the best route through the DAG of dictionary words; a run of single
// characters that is no word goes to the HMM, one that is a word splits into its characters.
void JiebaSegmenter::Data::cut_dag(const std::u32string& s, std::vector<std::u32string>& out) const {
    const size_t n = s.size();
    // get_DAG: for each start k the ends i of words s[k..i] (or k alone), with their frequencies
    std::vector<std::vector<std::pair<size_t, int64_t>>> dag(n);
    for (size_t k = 0; k < n; ++k) {
        int64_t node = next(0, s[k]);
        for (size_t i = k; i < n && node >= 0;) {
            if (freq[node]) dag[k].emplace_back(i, freq[node]);
            if (++i < n) node = next(node, s[i]);
        }
        if (dag[k].empty()) dag[k].emplace_back(k, frequency(s, k, k + 1));
    }
    // calc: route[idx] = max over x of (log(FREQ.get(s[idx..x]) or 1) - logtotal + route[x+1], x)
    std::vector<std::pair<double, size_t>> route(n + 1, {0.0, 0});
    for (size_t idx = n; idx-- > 0;) {
        bool first = true;
        for (const auto& [x, f] : dag[idx]) {
            const double score = std::log(static_cast<double>(f > 0 ? f : 1)) - log_total + route[x + 1].first;
            if (first || score > route[idx].first || (score == route[idx].first && x > route[idx].second))
                route[idx] = {score, x};
            first = false;
        }
    }
    std::u32string buf;
    auto flush = [&] {
        if (buf.size() == 1) out.push_back(buf);
        else if (!buf.empty() && !frequency(buf, 0, buf.size())) cut_hmm_runs(buf, out);
        else
            for (char32_t c : buf) out.emplace_back(1, c);
        buf.clear();
    };
    for (size_t x = 0; x < n;) {
        const size_t y = route[x].second + 1;
        if (y - x == 1) {
            buf += s[x];
        } else {
            flush();
            out.push_back(s.substr(x, y - x));
        }
        x = y;
    }
    flush();
}

// finalseg.cut: Han runs through the Viterbi; between them, runs of [a-zA-Z0-9]+(\.\d+)?%? and
// the text around them are words as they are.
void JiebaSegmenter::Data::cut_hmm_runs(const std::u32string& s, std::vector<std::u32string>& out) const {
    for (size_t p = 0; p < s.size();) {
        size_t q = p;
        if (is_han(s[p])) {
            while (q < s.size() && is_han(s[q])) ++q;
            viterbi_cut(s.substr(p, q - p), out);
            p = q;
            continue;
        }
        while (q < s.size() && !is_han(s[q])) ++q;  // one non-Han block, split by re_skip
        const std::u32string blk = s.substr(p, q - p);
        std::u32string other;
        for (size_t i = 0; i < blk.size();) {
            if (!is_alnum(blk[i])) {
                other += blk[i++];
                continue;
            }
            size_t j = i;
            while (j < blk.size() && is_alnum(blk[j])) ++j;
            if (j + 1 < blk.size() && blk[j] == U'.' && is_digit(blk[j + 1])) {
                j += 2;
                while (j < blk.size() && is_digit(blk[j])) ++j;
            }
            if (j < blk.size() && blk[j] == U'%') ++j;
            if (!other.empty()) out.push_back(std::move(other));
            other.clear();
            out.push_back(blk.substr(i, j - i));
            i = j;
        }
        if (!other.empty()) out.push_back(std::move(other));
        p = q;
    }
}

// finalseg.viterbi over states BMES with PrevStatus, then __cut's B…E words and S characters.
void JiebaSegmenter::Data::viterbi_cut(const std::u32string& s, std::vector<std::u32string>& out) const {
    static constexpr State kPrev[kStates][2] = {{E, S}, {B, M}, {M, B}, {S, E}};  // B: ES, E: BM, M: MB, S: SE
    auto emission = [&](State y, char32_t c) {
        auto it = emit[y].find(c);
        return it == emit[y].end() ? kMinFloat : it->second;
    };
    const size_t n = s.size();
    std::vector<std::array<double, kStates>> v(n);
    std::vector<std::array<State, kStates>> back(n);
    for (int y = 0; y < kStates; ++y) v[0][y] = start[y] + emission(State(y), s[0]);
    for (size_t t = 1; t < n; ++t)
        for (int y = 0; y < kStates; ++y) {
            const double em = emission(State(y), s[t]);
            double best = 0;
            State from = B;
            for (int k = 0; k < 2; ++k) {  // max((prob, y0)): ties go to the later letter
                const State y0 = kPrev[y][k];
                const double prob = v[t - 1][y0] + trans[y0][y] + em;
                if (k == 0 || prob > best || (prob == best && y0 > from)) best = prob, from = y0;
            }
            v[t][y] = best;
            back[t][y] = from;
        }
    State last = v[n - 1][S] >= v[n - 1][E] ? S : E;
    std::vector<State> pos(n);
    for (size_t t = n; t-- > 0;) {
        pos[t] = last;
        if (t > 0) last = back[t][last];
    }
    size_t begin = 0, next_i = 0;
    for (size_t i = 0; i < n; ++i) {
        if (pos[i] == B) begin = i;
        else if (pos[i] == E) out.push_back(s.substr(begin, i + 1 - begin)), next_i = i + 1;
        else if (pos[i] == S) out.emplace_back(1, s[i]), next_i = i + 1;
    }
    if (next_i < n) out.push_back(s.substr(next_i));
}

// Tokenizer.cut: blocks of re_han_default go through the DAG; elsewhere "\r\n" and each
// whitespace character are words, and so is every other character alone.
std::vector<std::u32string> JiebaSegmenter::cut(const std::u32string& text) const {
    std::vector<std::u32string> out;
    for (size_t p = 0; p < text.size();) {
        size_t q = p;
        if (is_han_default(text[p])) {
            while (q < text.size() && is_han_default(text[q])) ++q;
            d_->cut_dag(text.substr(p, q - p), out);
        } else if (text[p] == U'\r' && p + 1 < text.size() && text[p + 1] == U'\n') {
            out.push_back(U"\r\n");
            q = p + 2;
        } else {
            out.emplace_back(1, text[p]);
            q = p + 1;
        }
        p = q;
    }
    return out;
}

const JiebaSegmenter* JiebaSegmenter::installed(std::string* why) {
    static std::once_flag once;
    static std::unique_ptr<JiebaSegmenter> shared;
    static std::string looked;
    std::call_once(once, [] {
        std::vector<fs::path> candidates;
        if (const char* env = std::getenv("TUNEBENCH_JIEBA_DIR"); env && *env) {
            candidates.emplace_back(env);  // the user's choice: nothing else
        } else {
            const fs::path exe = executable_dir();
            if (!exe.empty()) candidates.push_back(exe / ".." / "share" / "tunebench" / "jieba");
            if (*TB_JIEBA_BUILD_DIR) candidates.emplace_back(TB_JIEBA_BUILD_DIR);
            if (*TB_JIEBA_INSTALL_DIR) candidates.emplace_back(TB_JIEBA_INSTALL_DIR);
            candidates.emplace_back("/usr/lib/python3/dist-packages/jieba");  // Debian's python3-jieba
        }
        for (const auto& dir : candidates) {
            std::error_code ec;
            if (!fs::is_regular_file(dir / "dict.txt", ec)) {
                looked += (looked.empty() ? "" : ", ") + dir.string();
                continue;
            }
            try {
                shared = std::make_unique<JiebaSegmenter>(dir);
                return;
            } catch (const Error& e) {
                looked += (looked.empty() ? "" : ", ") + dir.string() + " (" + e.what() + ")";
            }
        }
    });
    if (!shared && why) *why = "jieba's dictionary was not found (looked in " + looked + ")";
    return shared.get();
}

}  // namespace tb::eval
