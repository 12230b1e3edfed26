// jieba 0.42.1's default word segmentation, `jieba.cut(text)` (accurate mode, HMM on), which
// LLaMA-Factory's ROUGE runs over Chinese: a prefix-dictionary DAG with the most probable route,
// and runs of single characters the dictionary does not know cut by the BMES Viterbi of
// jieba/finalseg. It reads jieba's own data files (dict.txt, finalseg/prob_*.py: Debian's
// python3-jieba, MIT), installed with Tunebench under share/tunebench/jieba. Torch-free.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tb::eval {

class JiebaSegmenter {
public:
    // dir holds dict.txt and finalseg/prob_{start,trans,emit}.py; a missing or malformed file is a
    // FileError naming it.
    explicit JiebaSegmenter(const std::filesystem::path& dir);
    ~JiebaSegmenter();
    JiebaSegmenter(const JiebaSegmenter&) = delete;
    JiebaSegmenter& operator=(const JiebaSegmenter&) = delete;

    // The words of text, in order; concatenated they are the text.
    std::vector<std::u32string> cut(const std::u32string& text) const;

    // The data Tunebench was installed with, loaded once: $TUNEBENCH_JIEBA_DIR when set (only it),
    // else share/tunebench/jieba beside the program, the build tree, then Debian's python3-jieba.
    // nullptr when none is found; why then says where it looked.
    static const JiebaSegmenter* installed(std::string* why = nullptr);

private:
    struct Data;
    std::unique_ptr<Data> d_;
};

}  // namespace tb::eval
