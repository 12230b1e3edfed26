// A generated_predictions.jsonl given to `tunebench-cli score` (or left by an earlier evaluate):
// its rows are read and scored. Besides no crash: jieba's words put together are the text again,
// and every score is within 0…100.
#include "eval/jieba_segmenter.h"
#include "eval/prediction_scores.h"
#include "fuzz_support.h"
#include "tokenizer/utf8.h"

namespace {
void check(bool ok) {
    if (!ok) __builtin_trap();
}
void check_range(const tb::eval::Similarity& s) {
    for (double v : {s.bleu4, s.words.rouge1, s.words.rouge2, s.words.rougeL, s.characters.rouge1, s.characters.rouge2,
                     s.characters.rougeL})
        check(v >= 0 && v <= 100 + 1e-9);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("eval/generated_predictions.jsonl", data, size);
    tb::fuzz::expect_clean([&] {
        auto rows = tb::eval::read_prediction_rows(path);
        if (rows.size() > 4) rows.resize(4);
        const auto* jieba = tb::eval::JiebaSegmenter::installed();
        for (const auto& r : rows) {
            check_range(tb::eval::similarity(r.predict, r.label, jieba));
            if (!jieba) continue;
            const std::u32string text = tb::utf8::decode(r.predict);
            std::u32string joined;
            for (const auto& w : jieba->cut(text)) joined += w;
            check(joined == text);
        }
        const auto scores = tb::eval::score_predictions(rows);
        check_range(scores.mean);
        tb::eval::predict_results_json(scores);
    });
    return 0;
}
