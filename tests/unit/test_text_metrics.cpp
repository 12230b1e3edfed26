// BLEU-4 / ROUGE against values worked by hand from nltk's and pltrdy rouge's definitions, and a
// dataset prediction run whose adapter learned the answers scoring near 100.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "demo/demo_model.h"
#include "eval/predict_dataset.h"
#include "eval/text_metrics.h"
#include "io/atomic_file.h"
#include "test_support.h"
#include "train/trainer.h"

using namespace tb;

TEST(TextMetrics, HandWorkedValues) {
    // "abcd" vs "abce": p1 3/4, p2 2/3, p3 1/2, p4 0 → method3 1/(2·1); BP 1
    EXPECT_NEAR(eval::sentence_bleu4(eval::code_points("abcd"), eval::code_points("abce")), std::pow(0.125, 0.25), 1e-12);
    auto s = eval::similarity("a b c e", "a b c d");
    EXPECT_NEAR(s.rouge1, 75.0, 1e-4);
    EXPECT_NEAR(s.rouge2, 100.0 * 2 / 3, 1e-4);
    EXPECT_NEAR(s.rougeL, 75.0, 1e-4);
    auto same = eval::similarity("你好，世界", "你好，世界");
    EXPECT_NEAR(same.bleu4, 100.0, 1e-9);
    EXPECT_NEAR(same.rougeL, 100.0, 1e-6);
    EXPECT_EQ(eval::rouge_tokens("LoRA 训练"), (std::vector<std::string>{"LoRA", "训", "练"}));
    EXPECT_EQ(eval::similarity("", "abc").bleu4, 0.0);
    EXPECT_EQ(eval::similarity("xyz", "abc").rouge1, 0.0);
    // shorter hypothesis: brevity penalty exp(1 - 4/2)
    EXPECT_NEAR(eval::sentence_bleu4(eval::code_points("abcd"), eval::code_points("ab")),
                std::exp(1.0 - 2.0) * std::pow(1.0 * 1.0 * 0.5 * 0.25, 0.25), 1e-12);
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
    EXPECT_GT(r.rougeL, 90.0);
    EXPECT_GT(r.bleu4, 80.0);
    auto results = nlohmann::json::parse(test::slurp(tmp.path / "pred/predict_results.json"));
    EXPECT_NEAR(results["predict_rouge-l"].get<double>(), r.rougeL, 1e-3);
    auto lines = test::slurp(tmp.path / "pred/generated_predictions.jsonl");
    EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 8);
    ASSERT_FALSE(r.worst.empty());
    EXPECT_LE(r.worst.front().rougeL, r.worst.back().rougeL);

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
