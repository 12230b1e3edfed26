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

    // cancelled after 30 rows, then resumed
    o.output = tmp.path / "resumed.csv";
    std::atomic<bool> cancel{false};
    auto part = run_batch_predict(o, [&](const BatchPredictProgress& p) {
        if (p.done == 30) cancel = true;
    }, &cancel);
    EXPECT_TRUE(part.cancelled);
    EXPECT_EQ(data::read_csv(o.output).rows.size(), 30u);
    auto rest = run_batch_predict(o);
    EXPECT_EQ(rest.resumed_from, 30);
    EXPECT_EQ(test::slurp(o.output), expected);

    // a crash left half a record: it is cut off and redone
    std::string text = expected.substr(0, expected.size() * 2 / 3);
    io::write_text_atomically(o.output, text);
    auto repaired = run_batch_predict(o);
    EXPECT_GT(repaired.resumed_from, 0);
    EXPECT_EQ(test::slurp(o.output), expected);
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
    EXPECT_NE(msg.find("other columns"), std::string::npos) << msg;
    EXPECT_EQ(test::slurp(o.output), "other,columns\n1,2\n");  // not touched
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
