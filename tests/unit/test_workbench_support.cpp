// Engine pieces behind the GUI's top bar, Datasets tab and Train estimates: model summaries on the
// real tokenizer folders, adapter discovery in run folders, data files as tables (JSONL → alpaca
// conversion), and the up-front time estimate's step arithmetic on the demo.
#include <gtest/gtest.h>

#include <fstream>

#include "adapters/adapter_folders.h"
#include "core/error.h"
#include "data/csv_convert.h"
#include "data/dataset_registry.h"
#include "data/records.h"
#include "demo/demo_model.h"
#include "infer/model_summary.h"
#include "test_support.h"
#include "train/time_estimate.h"
#include "train/trainer.h"

using namespace tb;
namespace fs = std::filesystem;

TEST(ModelSummary, DetectsArchitectureSizeAndTemplate) {
    const auto glm = describe_model(test::models_dir() / "chatglm3-6b-tokenizer");
    EXPECT_EQ(glm.architecture, "ChatGLM");
    EXPECT_EQ(glm.template_name, "chatglm3");
    EXPECT_EQ(glm.layers, 28);
    EXPECT_EQ(format_parameter_count(glm.parameters), "6.24B");  // ChatGLM3-6B: 6,243,584,000
    const auto stories = describe_model(test::models_dir() / "stories260K-hf");
    EXPECT_EQ(stories.architecture, "LLaMA");
    EXPECT_EQ(stories.template_name, "empty");  // a base model without a chat template
    EXPECT_EQ(format_parameter_count(999), "999");
    EXPECT_EQ(format_parameter_count(260'000), "260K");
    EXPECT_THROW(describe_model("/nonexistent/model"), tb::Error);
}

TEST(AdapterFolders, FinalFirstThenCheckpointsNewestFirst) {
    test::TempDir tmp;
    auto adapter = [](const fs::path& p) {
        fs::create_directories(p);
        std::ofstream(p / "adapter_config.json") << "{}";
    };
    adapter(tmp.path / "run");
    adapter(tmp.path / "run/checkpoint-5");
    adapter(tmp.path / "run/checkpoint-40");
    fs::create_directories(tmp.path / "run/checkpoint-99");  // no adapter in it: not offered
    const auto found = find_adapters(tmp.path / "run");
    ASSERT_EQ(found.size(), 3u);
    EXPECT_EQ(found[0].label, "final");
    EXPECT_EQ(found[1].label, "checkpoint-40");
    EXPECT_EQ(found[2].label, "checkpoint-5");
    const auto runs = find_adapters(tmp.path);  // a folder of runs, one level down
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].label, "run (final)");
    EXPECT_EQ(runs[1].label, "run/checkpoint-40");
    EXPECT_TRUE(find_adapters(tmp.path / "missing").empty());
}

TEST(DataTables, JsonLinesReadAsATableAndConvertedLikeCsv) {
    const auto t = data::read_table(test::datasets_dir() / "adgen/dev.jsonl");
    ASSERT_EQ(t.rows.size(), 1070u);
    EXPECT_EQ(t.header, (std::vector<std::string>{"instruction", "output"}));
    EXPECT_EQ(t.rows[0][0].rfind("类型#上衣*材质#牛仔布", 0), 0u);
    EXPECT_EQ(t.row_lines[2], 3);
    test::TempDir tmp;
    data::CsvConvertOptions o;
    o.csv = test::datasets_dir() / "adgen/dev.jsonl";
    o.output = tmp.path / "ads.jsonl";
    o.instruction = "写一段广告：{instruction}";
    o.output_template = "{output}";
    o.dataset_dir = tmp.path;
    o.dataset_name = "ads";
    EXPECT_EQ(data::convert_csv(o).rows, 1070);
    const auto ex = data::load_datasets(tmp.path, "ads", 0);
    ASSERT_EQ(ex.size(), 1070u);
    EXPECT_EQ(ex[0].messages[0].content, "写一段广告：" + t.rows[0][0]);
    EXPECT_EQ(ex[0].messages[1].content, t.rows[0][1]);
    // one row, as the Datasets tab previews it; an empty response is dropped as in training
    data::DatasetAttr attr;
    attr.columns = {{"prompt", "instruction"}, {"query", "input"}, {"response", "output"}};
    auto one = data::convert_record({{"instruction", "q"}, {"input", "i"}, {"output", "a"}}, attr, "row 1");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->messages[0].content, "q\ni");
    data::DatasetLoadReport report;
    EXPECT_FALSE(data::convert_record({{"instruction", "q"}, {"output", ""}}, attr, "row 2", &report));
    EXPECT_EQ(report.dropped, 1);
}

TEST(TimeEstimate, StepsExamplesAndAPositiveTimeOnTheDemo) {
    test::TempDir tmp;
    init_demo(tmp.path);
    ArgMap m{{"model_name_or_path", (tmp.path / "model").string()}, {"dataset_dir", (tmp.path / "data").string()},
             {"dataset", "tunebench_demo"}, {"output_dir", (tmp.path / "out").string()}, {"device", "cpu"},
             {"per_device_train_batch_size", "4"}, {"num_train_epochs", "5"}, {"cutoff_len", "256"}};
    const auto e = estimate_training_time(TrainingArgs::from_map(m));
    const int64_t n = static_cast<int64_t>(data::load_datasets(tmp.path / "data", "tunebench_demo", 0).size());
    EXPECT_EQ(e.examples, n);
    EXPECT_EQ(e.steps, 5 * ((n + 3) / 4));  // the trainer's own step count
    EXPECT_GT(e.device_flops, 1e8);
    EXPECT_GT(e.seconds, 0);
    m["val_size"] = "0.25";
    m["gradient_accumulation_steps"] = "2";
    const auto v = estimate_training_time(TrainingArgs::from_map(m));
    const int64_t train = n - (n + 3) / 4;
    EXPECT_EQ(v.examples, train);
    EXPECT_EQ(v.steps, 5 * (((train + 3) / 4 + 1) / 2));
    m["max_steps"] = "7";
    EXPECT_EQ(estimate_training_time(TrainingArgs::from_map(m)).steps, 7);
    // recomputation: none < the MLPs only < whole layers (the default)
    const double layer = estimate_training_time(TrainingArgs::from_map(m)).flops_per_token;
    m["gradient_checkpointing_scope"] = "mlp";
    const double mlp = estimate_training_time(TrainingArgs::from_map(m)).flops_per_token;
    m["gradient_checkpointing"] = "false";
    const double none = estimate_training_time(TrainingArgs::from_map(m)).flops_per_token;
    EXPECT_LT(none, mlp);
    EXPECT_LT(mlp, layer);
    m.erase("gradient_checkpointing");
    m.erase("gradient_checkpointing_scope");
    m["dataset"] = "no_such_dataset";
    EXPECT_THROW(estimate_training_time(TrainingArgs::from_map(m)), tb::Error);
}

// The Train tab continues from the top bar's adapter: starting over in the folder that holds that
// adapter would delete it before it is read, so it is refused and nothing is touched.
TEST(TrainOutputDir, OverwriteNeverClearsTheAdapterTheRunStartsFrom) {
    test::TempDir tmp;
    init_demo(tmp.path);
    fs::create_directories(tmp.path / "run/checkpoint-3");
    std::ofstream(tmp.path / "run/checkpoint-3/adapter_config.json") << "{}";
    ArgMap m{{"model_name_or_path", (tmp.path / "model").string()}, {"dataset_dir", (tmp.path / "data").string()},
             {"dataset", "tunebench_demo"}, {"output_dir", (tmp.path / "run").string()}, {"device", "cpu"},
             {"adapter_name_or_path", (tmp.path / "run/checkpoint-3").string()}, {"overwrite_output_dir", "true"}};
    try {
        run_training(TrainingArgs::from_map(m), {});
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("overwrite_output_dir would clear"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::exists(tmp.path / "run/checkpoint-3/adapter_config.json"));
}
