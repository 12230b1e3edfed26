// BLEU-4 / ROUGE against values worked by hand from nltk's and rouge_chinese's definitions, jieba's
// cut of a few sentences, and a dataset prediction run whose adapter learned the answers scoring
// near 100.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "demo/demo_model.h"
#include "eval/predict_dataset.h"
#include "eval/jieba_segmenter.h"
#include "eval/text_metrics.h"
#include "io/atomic_file.h"
#include "test_support.h"
#include "tokenizer/utf8.h"
#include "train/trainer.h"

using namespace tb;

TEST(TextMetrics, HandWorkedValues) {
    // "abcd" vs "abce": p1 3/4, p2 2/3, p3 1/2, p4 0 → method3 1/(2·1); BP 1
    EXPECT_NEAR(eval::sentence_bleu4(U"abcd", U"abce"), std::pow(0.125, 0.25), 1e-12);
    // rouge_chinese: F1 of unique n-grams; ROUGE-L the F1 of the LCS
    auto s = eval::similarity("a b c e", "a b c d", nullptr).characters;
    EXPECT_NEAR(s.rouge1, 75.0, 1e-4);
    EXPECT_NEAR(s.rouge2, 100.0 * 2 / 3, 1e-4);
    EXPECT_NEAR(s.rougeL, 75.0, 1e-4);
    auto same = eval::similarity("你好，世界", "你好，世界", nullptr);
    EXPECT_NEAR(same.bleu4, 100.0, 1e-9);
    EXPECT_NEAR(same.characters.rougeL, 100.0, 1e-6);
    EXPECT_EQ(same.words.rougeL, 0.0);  // no segmenter, no word scores
    EXPECT_EQ(eval::character_tokens(U"LoRA 训练"), (std::vector<std::u32string>{U"LoRA", U"训", U"练"}));
    EXPECT_EQ(eval::similarity("", "abc", nullptr).bleu4, 0.0);
    EXPECT_EQ(eval::similarity("xyz", "abc", nullptr).characters.rouge1, 0.0);
    // shorter hypothesis: brevity penalty exp(1 - 4/2)
    EXPECT_NEAR(eval::sentence_bleu4(U"abcd", U"ab"), std::exp(1.0 - 2.0) * std::pow(1.0 * 1.0 * 0.5 * 0.25, 0.25), 1e-12);
    // rouge_chinese cuts sentences after 。！？? (not before a closing quote); a blank sentence is one empty word
    EXPECT_EQ(eval::rouge_chinese_words({U"好", U"。", U"\n", U"是"}), (std::vector<std::u32string>{U"好", U"。", U"", U"是"}));
    EXPECT_EQ(eval::rouge_chinese_words({U"说", U"。", U"”", U"好"}), (std::vector<std::u32string>{U"说", U"。", U"”", U"好"}));
    EXPECT_EQ(eval::round4(12.34565), 12.3456);  // Python's round: the double just below …65
    EXPECT_EQ(eval::round4(0.00005), 0.0001);
}

// jieba.cut as jieba 0.42.1 gives it (python -c 'import jieba; print(list(jieba.cut(t)))'); the
// reference test compares thousands of texts.
TEST(JiebaSegmenter, CutsAsJieba) {
    std::string why;
    const auto* jieba = eval::JiebaSegmenter::installed(&why);
    ASSERT_NE(jieba, nullptr) << why;  // the build copies Debian's python3-jieba data (quickstart installs it)
    auto cut = [&](const char* text) {
        std::vector<std::string> w;
        for (const auto& x : jieba->cut(utf8::decode(text))) w.push_back(utf8::encode(x));
        return w;
    };
    EXPECT_EQ(cut("张三丰李四光在北京协和医院就诊。"),
              (std::vector<std::string>{"张三丰", "李四光", "在", "北京协和医院", "就诊", "。"}));
    EXPECT_EQ(cut("体温38.5℃，升高了15.3%。"),
              (std::vector<std::string>{"体温", "38.5", "℃", "，", "升高", "了", "15.3%", "。"}));
    EXPECT_EQ(cut("C++ a\r\nb"), (std::vector<std::string>{"C++", " ", "a", "\r\n", "b"}));
    EXPECT_TRUE(cut("").empty());
    // LLaMA-Factory's ROUGE is over these words: one wrong word of three
    const auto s = eval::similarity("北京协和医院就诊", "北京协和医院看病", jieba).words;
    EXPECT_NEAR(s.rouge1, 50.0, 1e-4);  // {北京协和医院, 就诊} vs {北京协和医院, 看病}
}

TEST(JiebaSegmenter, DamagedDataIsNamed) {
    test::TempDir tmp;
    auto msg = test::error_of<FileError>([&] { eval::JiebaSegmenter{tmp.path}; });
    EXPECT_NE(msg.find("dict.txt is missing"), std::string::npos) << msg;
    io::write_text_atomically(tmp.path / "dict.txt", "一 10 m\n二十\n");
    msg = test::error_of<FileError>([&] { eval::JiebaSegmenter{tmp.path}; });
    EXPECT_NE(msg.find("dict.txt:2"), std::string::npos) << msg;
    io::write_text_atomically(tmp.path / "dict.txt", "一 10 m\n");
    std::filesystem::create_directories(tmp.path / "finalseg");
    io::write_text_atomically(tmp.path / "finalseg/prob_start.py", "P={'B': -0.2, 'X': -1.0}\n");
    msg = test::error_of<FileError>([&] { eval::JiebaSegmenter{tmp.path}; });
    EXPECT_NE(msg.find("prob_start.py"), std::string::npos) << msg;
    EXPECT_NE(msg.find("B, E, M, S"), std::string::npos) << msg;
}

TEST(TextMetrics, TrainedAdapterScoresHighOnItsDatasetAndTheRunResumes) {
    test::TempDir tmp;
    init_demo(tmp.path);
    ArgMap train = read_yaml_args(tmp.path / "train_lora.yaml");
    train["output_dir"] = (tmp.path / "lora").string();
    run_training(TrainingArgs::from_map(train));
    ArgMap m = {{"model_name_or_path", (tmp.path / "model").string()}, {"adapter_name_or_path", (tmp.path / "lora").string()},
                {"dataset", "tunebench_demo"}, {"dataset_dir", (tmp.path / "data").string()}, {"max_samples", "8"},
                {"output_dir", (tmp.path / "pred").string()}, {"device", "cpu"}, {"max_new_tokens", "100"},
                {"per_device_eval_batch_size", "2"}};
    auto args = eval::DatasetPredictArgs::from_map(m);
    std::atomic<bool> stop{false};
    auto part = eval::predict_dataset(args, [&](int64_t done, int64_t) { if (done == 3) stop = true; }, &stop);
    EXPECT_TRUE(part.cancelled);
    // rows already finished beside the third when the cancel came are kept too
    EXPECT_GE(part.samples, 3);
    EXPECT_LT(part.samples, 3 + 2);
    auto r = eval::predict_dataset(args);
    EXPECT_EQ(r.resumed_from, part.samples);
    EXPECT_EQ(r.samples, 8);
    ASSERT_TRUE(r.scores.by_words) << r.scores.note;
    EXPECT_GT(r.scores.mean.words.rougeL, 90.0);
    EXPECT_GT(r.scores.mean.characters.rougeL, 90.0);
    EXPECT_GT(r.scores.mean.bleu4, 80.0);
    auto results = nlohmann::json::parse(test::slurp(tmp.path / "pred/predict_results.json"));
    EXPECT_NEAR(results["predict_rouge-l"].get<double>(), r.scores.mean.words.rougeL, 1e-9);
    EXPECT_NEAR(results["predict_rouge-l_characters"].get<double>(), r.scores.mean.characters.rougeL, 1e-9);
    auto lines = test::slurp(tmp.path / "pred/generated_predictions.jsonl");
    EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 8);
    ASSERT_FALSE(r.scores.worst.empty());
    EXPECT_LE(r.scores.worst.front().rougeL, r.scores.worst.back().rougeL);

    // Another job (no adapter) in the same output_dir is refused; the finished rows stay.
    auto base = m;
    base.erase("adapter_name_or_path");
    auto msg = test::error_of<ConfigError>([&] { eval::predict_dataset(eval::DatasetPredictArgs::from_map(base)); });
    EXPECT_NE(msg.find("adapter: was"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(tmp.path / "pred/generated_predictions.jsonl"), lines);
    // A damaged line before the last is an error naming it; nothing is dropped.
    const std::string damaged = "{\"prompt\": 1}\n" + lines;
    io::write_text_atomically(tmp.path / "pred/generated_predictions.jsonl", damaged);
    msg = test::error_of<FileError>([&] { eval::predict_dataset(args); });
    EXPECT_NE(msg.find("generated_predictions.jsonl:1"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(tmp.path / "pred/generated_predictions.jsonl"), damaged);
}
