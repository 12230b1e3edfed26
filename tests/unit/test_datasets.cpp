// Dataset import: every registered LLaMA-Factory demo dataset whose file is present loads (or
// says "not supported: …"), real files in every layout load with the right row counts, the CSV
// converter keeps every row of real CSVs (UTF-8 and GB18030), and bad rows name file and line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/csv.h"
#include "data/csv_convert.h"
#include "data/dataset_registry.h"
#include "data/records.h"
#include "io/atomic_file.h"
#include "test_support.h"

using namespace tb;
namespace fs = std::filesystem;

using test::error_of;

TEST(Datasets, EveryRegisteredLlamaFactoryDatasetLoadsOrIsClearlyUnsupported) {
    const fs::path dir = test::datasets_dir() / "llama_factory";
    auto info = data::read_dataset_info(dir);
    EXPECT_GT(info.size(), 100u);
    std::map<std::string, int64_t> loaded;
    int unsupported = 0, present = 0;
    for (const auto& [name, attr] : info) {
        if (attr.file_name.empty() || !fs::exists(dir / attr.file_name)) {
            // hub-only or absent: a clear message, never a crash
            auto msg = error_of([&] { data::load_dataset(dir, attr, 0); });
            EXPECT_TRUE(msg.find("not supported") != std::string::npos || msg.find("not found") != std::string::npos) << msg;
            continue;
        }
        ++present;
        try {
            data::DatasetLoadReport rep;
            loaded[name] = static_cast<int64_t>(data::load_dataset(dir, attr, 0, &rep).size()) + rep.dropped;
        } catch (const UnsupportedError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("not supported: ", 0), 0u) << e.what();
            ++unsupported;
        }
    }
    EXPECT_EQ(present, 7);  // the eighth file, oaast_sft_zh.json, is not registered (next test)
    // Row counts from datasets/README.md
    EXPECT_EQ(loaded["alpaca_zh_demo"], 1000);
    EXPECT_EQ(loaded["alpaca_en_demo"], 999);
    EXPECT_EQ(loaded["identity"], 91);
    EXPECT_EQ(loaded["kto_en_demo"], 300);
    EXPECT_EQ(unsupported, 3);  // two tool-calling sets and the DPO preference set
}

// kto_en_demo marks 150 of its 300 answers as rejected (label false): SFT must not learn them.
TEST(Datasets, KtoRowsWithAFalseTagAreDroppedNotTrained) {
    const fs::path dir = test::datasets_dir() / "llama_factory";
    const auto info = data::read_dataset_info(dir);
    data::DatasetLoadReport rep;
    const auto ex = data::load_dataset(dir, info.at("kto_en_demo"), 0, &rep);
    EXPECT_EQ(ex.size(), 150u);
    EXPECT_EQ(rep.dropped, 150);
    ASSERT_FALSE(rep.warnings.empty());
    EXPECT_NE(rep.warnings[0].find("kto_tag is false"), std::string::npos) << rep.warnings[0];
    const auto rows = nlohmann::json::parse(test::slurp(dir / "kto_en_demo.json"));
    size_t kept = 0;  // the kept examples are exactly the label-true rows, in order
    for (const auto& r : rows) {
        if (!r["label"].get<bool>()) continue;
        ASSERT_LT(kept, ex.size());
        EXPECT_EQ(ex[kept++].messages.back().content, r["messages"].back()["content"].get<std::string>());
    }
}

TEST(Datasets, AlpacaConversionJoinsInstructionAndInputAndKeepsHistory) {
    test::TempDir tmp;
    io::write_text_atomically(tmp.path / "oaast.json", test::slurp(test::datasets_dir() / "llama_factory/oaast_sft_zh.json"));
    data::DatasetAttr a;
    a.name = "oaast";
    a.file_name = "oaast.json";
    a.columns = {{"prompt", "instruction"}, {"query", "input"}, {"response", "output"}, {"history", "history"}};
    auto ex = data::load_dataset(tmp.path, a, 0);
    ASSERT_EQ(ex.size(), 689u);
    auto raw = nlohmann::json::parse(test::slurp(tmp.path / "oaast.json"));
    int with_history = 0;
    for (size_t i = 0; i < ex.size(); ++i) {
        const auto& r = raw[i];
        const size_t h = r["history"].size();
        with_history += h > 0;
        ASSERT_EQ(ex[i].messages.size(), 2 * h + 2);
        std::string user = r["instruction"];
        if (!r["input"].get<std::string>().empty()) user += "\n" + r["input"].get<std::string>();
        EXPECT_EQ(ex[i].messages[2 * h].content, user);
        EXPECT_EQ(ex[i].messages.back().content, r["output"].get<std::string>());
        if (h) EXPECT_EQ(ex[i].messages[0].content, r["history"][0][0].get<std::string>());
    }
    EXPECT_EQ(with_history, 390);
}

TEST(Datasets, JsonLinesWhateverTheExtensionAndSharegptDropsOddConversations) {
    EXPECT_EQ(data::read_records(test::datasets_dir() / "med_chatglm/train.txt").size(), 7622u);
    EXPECT_EQ(data::read_records(test::datasets_dir() / "huatuo/llama_data.json").size(), 8158u);
    EXPECT_EQ(data::read_records(test::datasets_dir() / "huatuo/infer.json").size(), 5u);  // no final newline
    auto liver = data::read_records(test::datasets_dir() / "huatuo/liver_cancer.json");
    EXPECT_EQ(liver.size(), 1000u);  // one-line JSON array
    EXPECT_EQ(data::read_records(test::datasets_dir() / "promptcblue/toy_train.json").size(), 80u);

    test::TempDir tmp;
    fs::copy_file(test::datasets_dir() / "medicalgpt/sharegpt_zh_1K_format.jsonl", tmp.path / "zh.jsonl");
    data::DatasetAttr a;
    a.name = "sharegpt_zh";
    a.file_name = "zh.jsonl";
    a.formatting = "sharegpt";
    a.columns = {{"messages", "conversations"}};
    data::DatasetLoadReport rep;
    auto ex = data::load_dataset(tmp.path, a, 0, &rep);
    EXPECT_EQ(static_cast<int64_t>(ex.size()) + rep.dropped, 1000);
    EXPECT_EQ(rep.dropped, 7);  // ending on a human turn: LLaMA-Factory 0.9.5's converter drops the same 7
    for (const auto& e : ex) {
        ASSERT_EQ(e.messages.size() % 2, 0u);
        EXPECT_EQ(e.messages.front().role, "user");
        EXPECT_EQ(e.messages.back().role, "assistant");
    }
    EXPECT_EQ(data::load_dataset(tmp.path, a, 10).size(), 10u);  // max_samples keeps the first N
}

TEST(Datasets, BadRowsNameFileAndLine) {
    test::TempDir tmp;
    io::write_text_atomically(tmp.path / "bad.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"c\", \"output\": }\n");
    auto msg = error_of([&] { data::read_records(tmp.path / "bad.jsonl"); });
    EXPECT_NE(msg.find("bad.jsonl:2"), std::string::npos) << msg;

    io::write_text_atomically(tmp.path / "arr.json", "[\n  {\"instruction\": \"a\", \"output\": \"b\"},\n  {\"instruction\": \"c\"}\n]\n");
    data::DatasetAttr a;
    a.name = "arr";
    a.file_name = "arr.json";
    a.columns = {{"prompt", "instruction"}, {"query", "input"}, {"response", "output"}};
    msg = error_of([&] { data::load_dataset(tmp.path, a, 0); });
    EXPECT_NE(msg.find("arr.json:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'output'"), std::string::npos) << msg;

    io::write_text_atomically(tmp.path / "bad.csv", "a,b\n1,2\n\"3,4\n");
    msg = error_of([&] { data::read_csv(tmp.path / "bad.csv"); });
    EXPECT_NE(msg.find("bad.csv:3"), std::string::npos) << msg;
    io::write_text_atomically(tmp.path / "short.csv", "a,b\n1,2\n3\n");
    msg = error_of([&] { data::read_csv(tmp.path / "short.csv"); });
    EXPECT_NE(msg.find("short.csv:3"), std::string::npos) << msg;

    io::write_text_atomically(tmp.path / "dataset_info.json", R"({"arr": {"file_name": "arr.json"}})");
    msg = error_of([&] { data::load_datasets(tmp.path, "nope", 0); });
    EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("arr"), std::string::npos) << msg;  // the hint lists what exists
}

TEST(CsvConvert, PaperCsvBecomesClassificationInstructionsWithoutLosingARow) {
    test::TempDir tmp;
    const fs::path csv = test::datasets_dir() / "xfg_paper/test.csv";
    data::CsvConvertOptions o;
    o.csv = csv;
    o.output = tmp.path / "papers.json";
    o.instruction = "Is this paper about medicine? Answer 0 or 1.";
    o.input_template = "title:{title},abstract:{abstract}";
    o.output_template = "{Keywords}";
    o.dataset_dir = tmp.path;
    o.dataset_name = "papers";
    auto r = data::convert_csv(o);
    EXPECT_EQ(r.rows, 1358);
    EXPECT_EQ(r.encoding, "utf-8");
    auto table = data::read_csv(csv);
    auto out = nlohmann::json::parse(test::slurp(o.output));
    ASSERT_EQ(out.size(), table.rows.size());
    const int title = table.column("title"), abstract = table.column("abstract"), kw = table.column("Keywords");
    for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i]["input"], "title:" + table.rows[i][title] + ",abstract:" + table.rows[i][abstract]);
        EXPECT_EQ(out[i]["output"], table.rows[i][kw]);
    }
    // registered, and loads back as training examples: every row, as LLaMA-Factory 0.9.5's
    // AlpacaDatasetConverter keeps all 1358 of this file
    auto ex = data::load_datasets(tmp.path, "papers", 0);
    EXPECT_EQ(ex.size(), 1358u);
}

TEST(CsvConvert, Gb18030MedicalDialoguesConvertToUtf8WithEveryRow) {
    test::TempDir tmp;
    const fs::path csv = test::datasets_dir() / "toyhom_cmdd/sample_IM_5000-6000_gbk.csv";
    auto table = data::read_csv(csv);
    EXPECT_EQ(table.encoding, "gb18030");
    ASSERT_EQ(table.rows.size(), 7644u);
    EXPECT_EQ(table.header, (std::vector<std::string>{"department", "title", "ask", "answer"}));
    data::CsvConvertOptions o;
    o.csv = csv;
    o.output = tmp.path / "cmdd.jsonl";
    o.instruction = "{title}";
    o.input_template = "{ask}";
    o.output_template = "{answer}";
    auto r = data::convert_csv(o);
    EXPECT_EQ(r.rows, 7644);
    auto recs = data::read_records(o.output);
    ASSERT_EQ(recs.size(), 7644u);
    int multiline = 0;
    for (size_t i = 0; i < recs.size(); ++i) {
        EXPECT_EQ(recs[i].value["output"], table.rows[i][3]);
        multiline += table.rows[i][2].find('\n') != std::string::npos || table.rows[i][3].find('\n') != std::string::npos;
    }
    EXPECT_EQ(multiline, 7);  // quoted fields with line breaks survive (Python's csv module counts 7)
    EXPECT_EQ(table.rows[0][0], "心血管科");  // decoded from GBK bytes
    // qizhen: CRLF, Chinese headers, quoted line breaks
    auto q = data::read_csv(test::datasets_dir() / "qizhen/drug_indication_eval.csv");
    EXPECT_EQ(q.rows.size(), 94u);
    EXPECT_EQ(q.header[3], "instruction");
}

TEST(CsvConvert, UnknownPlaceholderListsColumns) {
    test::TempDir tmp;
    io::write_text_atomically(tmp.path / "x.csv", "q,a\nhi,there\n");
    data::CsvConvertOptions o{tmp.path / "x.csv", tmp.path / "x.json", "{question}", "", "{a}"};
    auto msg = error_of([&] { data::convert_csv(o); });
    EXPECT_NE(msg.find("'question'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("q, a"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(tmp.path / "x.json"));  // nothing half-written
}

// JSON nested 100,000 levels deep (a damaged file) is a clear error naming the file wherever a
// user's JSON is read, never a stack overflow; a registry that is not an object is never rewritten.
TEST(Datasets, DeeplyNestedJsonIsAClearErrorAndNothingIsOverwritten) {
    test::TempDir tmp;
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    io::write_text_atomically(tmp.path / "deep.json", deep);
    auto msg = error_of([&] { data::read_records(tmp.path / "deep.json"); });
    EXPECT_NE(msg.find("nested deeper than 512 levels"), std::string::npos) << msg;
    EXPECT_NE(msg.find("deep.json"), std::string::npos) << msg;
    io::write_text_atomically(tmp.path / "rows.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"x\": " + deep + "}\n");
    msg = error_of([&] { data::read_records(tmp.path / "rows.jsonl"); });
    EXPECT_NE(msg.find("rows.jsonl:2"), std::string::npos) << msg;

    io::write_text_atomically(tmp.path / "dataset_info.json", "{\"a\": " + deep + "}");
    io::write_text_atomically(tmp.path / "t.csv", "a,b\n1,2\n");
    data::CsvConvertOptions o;
    o.csv = tmp.path / "t.csv";
    o.output = tmp.path / "x.json";
    o.instruction = "{a}";
    o.output_template = "{b}";
    o.dataset_dir = tmp.path;
    o.dataset_name = "x";
    msg = error_of([&] { data::convert_csv(o); });
    EXPECT_NE(msg.find("nested deeper"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(tmp.path / "dataset_info.json"), "{\"a\": " + deep + "}");
    msg = error_of([&] { data::read_dataset_info(tmp.path); });
    EXPECT_NE(msg.find("nested deeper"), std::string::npos) << msg;
    io::write_text_atomically(tmp.path / "dataset_info.json", "[1, 2]");
    msg = error_of([&] { data::convert_csv(o); });
    EXPECT_NE(msg.find("should be a JSON object"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(tmp.path / "dataset_info.json"), "[1, 2]");
    EXPECT_FALSE(fs::exists(tmp.path / "x.json"));  // refused before the output was written
}

// A convert never replaces what the user made without --overwrite: another file of that name or
// another registry entry of that name; an identical rerun is fine.
TEST(CsvConvert, ExistingOutputsAndEntriesNeedAnExplicitOverwrite) {
    test::TempDir tmp;
    data::CsvConvertOptions o;
    o.csv = test::datasets_dir() / "qizhen/drug_indication_eval.csv";
    o.output = tmp.path / "drugs.json";
    o.instruction = "{instruction}";
    o.output_template = "{医学专家标注的适应病症}";
    o.dataset_dir = tmp.path;
    o.dataset_name = "drugs";
    io::write_text_atomically(o.output, "my notes, not a dataset\n");
    auto msg = error_of([&] { data::convert_csv(o); });
    EXPECT_NE(msg.find("already exists with other contents"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(o.output), "my notes, not a dataset\n");
    EXPECT_FALSE(std::filesystem::exists(tmp.path / "dataset_info.json"));
    o.overwrite = true;
    data::convert_csv(o);
    o.overwrite = false;
    data::convert_csv(o);  // the same again: nothing to ask
    const std::string first = test::slurp(o.output);
    o.output = tmp.path / "other.json";  // the same name for another file
    msg = error_of([&] { data::convert_csv(o); });
    EXPECT_NE(msg.find("already registered"), std::string::npos) << msg;
    EXPECT_FALSE(std::filesystem::exists(o.output));
    EXPECT_EQ(data::read_dataset_info(tmp.path).at("drugs").file_name, "drugs.json");
}
