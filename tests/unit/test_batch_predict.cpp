// CSV batch prediction on the demo model over a real CSV (qizhen: CRLF, Chinese headers, quoted
// line breaks): one prediction per row with every input column kept; cancel, crash (a half
// record) and resume give the same file as one uninterrupted run; accuracy and F1 from a label.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/csv.h"
#include "demo/demo_model.h"
#include "infer/batch_predict.h"
#include "io/atomic_file.h"
#include "test_support.h"

using namespace tb;
namespace fs = std::filesystem;

namespace {
BatchPredictOptions options(const fs::path& demo, const fs::path& csv, const fs::path& out) {
    BatchPredictOptions o;
    o.csv = csv;
    o.output = out;
    o.prompt_template = "{instruction}";
    o.inference = InferenceArgs::from_map({{"model_name_or_path", (demo / "model").string()}, {"device", "cpu"},
                                           {"do_sample", "false"}, {"max_new_tokens", "6"}});
    return o;
}
}  // namespace

TEST(BatchPredict, EveryRowPredictedAndResumeAfterCancelOrCrashGivesTheSameFile) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    const fs::path csv = test::datasets_dir() / "qizhen/drug_indication_eval.csv";
    auto o = options(tmp.path / "demo", csv, tmp.path / "full.csv");
    auto r = run_batch_predict(o);
    EXPECT_EQ(r.rows, 94);
    auto input = data::read_csv(csv), full = data::read_csv(o.output);
    ASSERT_EQ(full.rows.size(), 94u);
    EXPECT_EQ(full.header.back(), "prediction");
    for (size_t i = 0; i < full.rows.size(); ++i) {
        EXPECT_EQ(std::vector<std::string>(full.rows[i].begin(), full.rows[i].end() - 1), input.rows[i]) << i;
    }
    const std::string expected = test::slurp(o.output);

    // cancelled after 30 rows, then resumed (rows that had already finished in the batch when the
    // cancel came are written too: complete, in order)
    o.output = tmp.path / "resumed.csv";
    std::atomic<bool> cancel{false};
    auto part = run_batch_predict(o, [&](const BatchPredictProgress& p) {
        if (p.done == 30) cancel = true;
    }, &cancel);
    EXPECT_TRUE(part.cancelled);
    const auto written = data::read_csv(o.output).rows.size();
    EXPECT_GE(written, 30u);
    EXPECT_LT(written, 30u + o.inference.per_device_eval_batch_size);
    EXPECT_EQ(part.rows, static_cast<int64_t>(written));
    auto rest = run_batch_predict(o);
    EXPECT_EQ(rest.resumed_from, static_cast<int64_t>(written));
    EXPECT_EQ(test::slurp(o.output), expected);

    // a crash left half a record: it is cut off and redone
    std::string text = expected.substr(0, expected.size() * 2 / 3);
    io::write_text_atomically(o.output, text);
    auto repaired = run_batch_predict(o);
    EXPECT_GT(repaired.resumed_from, 0);
    EXPECT_EQ(test::slurp(o.output), expected);
}

// Continuous batching: rows of very different lengths decode together, join as others finish,
// and every row's greedy answer equals the one-row-at-a-time answer (fp32, CPU).
TEST(BatchPredict, BatchedRowsEqualOneRowAtATime) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    const fs::path csv = test::datasets_dir() / "qizhen/drug_indication_eval.csv";
    auto o = options(tmp.path / "demo", csv, tmp.path / "one.csv");
    o.inference.per_device_eval_batch_size = 1;
    o.inference.generation.max_new_tokens = 24;
    run_batch_predict(o);
    for (int64_t batch : {3, 16}) {
        auto b = o;
        b.inference.per_device_eval_batch_size = batch;
        b.output = tmp.path / ("batch" + std::to_string(batch) + ".csv");
        run_batch_predict(b);
        EXPECT_EQ(test::slurp(b.output), test::slurp(o.output)) << "batch " << batch;
    }
}

TEST(BatchPredict, LabelColumnGivesAccuracyAndF1) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    // two questions, labels: the model's own answer (right) and something else (wrong)
    io::write_text_atomically(tmp.path / "q.csv", "question,label\nWhat is Tunebench?,x\nQLoRA 是什么？,y\n");
    auto o = options(tmp.path / "demo", tmp.path / "q.csv", tmp.path / "p.csv");
    o.prompt_template = "{question}";
    run_batch_predict(o);
    auto first = data::read_csv(o.output);
    io::write_text_atomically(tmp.path / "q2.csv", data::csv_line({"question", "label"}) +
                                                       data::csv_line({first.rows[0][0], first.rows[0][2]}) +
                                                       data::csv_line({first.rows[1][0], "wrong"}));
    o.csv = tmp.path / "q2.csv";
    o.output = tmp.path / "p2.csv";
    o.label_column = "label";
    auto r = run_batch_predict(o);
    EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
    EXPECT_GT(r.macro_f1, 0.0);
    EXPECT_LT(r.macro_f1, 1.0);
}

TEST(BatchPredict, BadInputIsClearAndWritesNothing) {
    test::TempDir tmp;
    io::write_text_atomically(tmp.path / "q.csv", "question\nhi\n");
    BatchPredictOptions o;
    o.csv = tmp.path / "q.csv";
    o.output = tmp.path / "p.csv";
    o.prompt_template = "{questoin}";
    o.inference.model_name_or_path = "unused: the template is checked first";
    auto msg = test::error_of<ConfigError>([&] { run_batch_predict(o); });
    EXPECT_NE(msg.find("'questoin'"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(o.output));
    io::write_text_atomically(o.output, "other,columns\n1,2\n");
    o.prompt_template = "{question}";
    msg = test::error_of<ConfigError>([&] { run_batch_predict(o); });
    EXPECT_NE(msg.find("not written by a Tunebench prediction"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(o.output), "other,columns\n1,2\n");  // not touched
}

TEST(BatchPredict, NeverOverwritesAFileItDidNotWriteNorMixesJobs) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    io::write_text_atomically(tmp.path / "q.csv", "question\nWhat is Tunebench?\nQLoRA 是什么？\n");
    auto o = options(tmp.path / "demo", tmp.path / "q.csv", tmp.path / "notes.md");
    o.prompt_template = "{question}";
    // A user's files of any kind named as --output: refused, byte for byte untouched.
    for (const std::string name : {"notes.md", "model.safetensors", "ragged.csv"}) {
        o.output = tmp.path / name;
        const std::string mine = name == "ragged.csv" ? "a,b\n1\n1,2,3\n" : "my own work\n";
        io::write_text_atomically(o.output, mine);
        const auto msg = test::error_of<ConfigError>([&] { run_batch_predict(o); });
        EXPECT_NE(msg.find("not written by a Tunebench prediction"), std::string::npos) << name << ": " << msg;
        EXPECT_EQ(test::slurp(o.output), mine) << name;
    }
    // A finished job, then the same output with another prompt template or model setting.
    o.output = tmp.path / "p.csv";
    EXPECT_EQ(run_batch_predict(o).rows, 2);
    const std::string finished = test::slurp(o.output);
    auto other = o;
    other.prompt_template = "Answer briefly: {question}";
    auto msg = test::error_of<ConfigError>([&] { run_batch_predict(other); });
    EXPECT_NE(msg.find("another job"), std::string::npos) << msg;
    EXPECT_NE(msg.find("prompt_template: was \"{question}\""), std::string::npos) << msg;
    other = o;
    other.inference.generation.max_new_tokens = 7;
    msg = test::error_of<ConfigError>([&] { run_batch_predict(other); });
    EXPECT_NE(msg.find("max_new_tokens: was 6, now 7"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(o.output), finished);
    // The input changed under the same name: another job too.
    io::write_text_atomically(tmp.path / "q.csv", "question\nWhat is Tunebench?\nsomething else\n");
    msg = test::error_of<ConfigError>([&] { run_batch_predict(o); });
    EXPECT_NE(msg.find("input_digest"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(o.output), finished);
}

TEST(BatchPredict, ALastRecordOfManyLinesIsResumedNotRedone) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    std::string long_cell;
    for (int i = 0; i < 100; ++i) long_cell += "line " + std::to_string(i) + "\n";
    io::write_text_atomically(tmp.path / "q.csv", data::csv_line({"question", "notes"}) + data::csv_line({"What is Tunebench?", "x"}) +
                                                      data::csv_line({"QLoRA 是什么？", long_cell}) +
                                                      data::csv_line({"如何开始训练？", long_cell}));
    auto o = options(tmp.path / "demo", tmp.path / "q.csv", tmp.path / "p.csv");
    o.prompt_template = "{question}";
    run_batch_predict(o);
    const std::string expected = test::slurp(o.output);
    // Killed while appending the third record: 50 of its 100 quoted lines were written.
    const size_t third = expected.find("如何开始训练？");
    ASSERT_NE(third, std::string::npos);
    size_t cut = third;
    for (int i = 0; i < 50; ++i) cut = expected.find('\n', cut) + 1;
    io::write_text_atomically(o.output, expected.substr(0, cut));
    auto r = run_batch_predict(o);
    EXPECT_EQ(r.resumed_from, 2);  // the two finished rows are kept, not redone
    EXPECT_EQ(test::slurp(o.output), expected);
}

// Macro-F1 as scikit-learn's f1_score(y, p, average="macro") defines it: every label seen in
// either column is a class (a predicted label no row has scores F1 0). Expected values computed
// with scikit-learn 1.9.1 on these columns.
TEST(BatchPredict, MacroF1IsScikitLearns) {
    test::TempDir tmp;
    auto score = [&](const std::string& csv) {
        io::write_text_atomically(tmp.path / "out.csv", csv);
        BatchPredictReport r;
        score_predictions(tmp.path / "out.csv", "label", r);
        return r;
    };
    auto r = score("label,prediction\n阳性,阳性\n阴性,阴性\n阳性,阴性\n阴性,阴性\n阴性,其他\n不确定,不确定\n阳性, 阳性 \n");
    EXPECT_NEAR(r.macro_f1, 0.6166666666666667, 1e-12);
    EXPECT_NEAR(r.accuracy, 5.0 / 7.0, 1e-12);
    EXPECT_NEAR(score("label,prediction\na,a\nb,a\na,a\nc,d\n").macro_f1, 0.2, 1e-12);
}
