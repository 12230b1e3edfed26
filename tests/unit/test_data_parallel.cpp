// Data parallel (issue 17), the parts below the command line: torchrun's variables, the rows each
// process takes, the step's token counts, and run_training_processes (the GUI's way to train on
// several GPUs) driving the real tunebench-cli over Gloo on the CPU. The whole runs against one
// process are tests/e2e/data_parallel_test.py.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "demo/demo_model.h"
#include "test_support.h"
#include "train/batching.h"
#include "train/distributed.h"
#include "train/training_process.h"

using namespace tb;
namespace fs = std::filesystem;

namespace {

// Sets environment variables for one test and restores them after.
class Env {
public:
    Env(std::initializer_list<std::pair<const char*, const char*>> vars) {
        for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) {
            const char* v = std::getenv(k);
            saved_.emplace_back(k, v ? std::optional<std::string>(v) : std::nullopt);
            ::unsetenv(k);
        }
        for (auto [k, v] : vars) ::setenv(k, v, 1);
    }
    ~Env() {
        for (auto& [k, v] : saved_) v ? ::setenv(k.c_str(), v->c_str(), 1) : ::unsetenv(k.c_str());
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TrainingArgs demo_args(const fs::path& demo, const fs::path& out, ArgMap extra) {
    ArgMap m = {{"model_name_or_path", (demo / "model").string()}, {"dataset", "tunebench_demo"},
                {"dataset_dir", (demo / "data").string()},       {"template", "chatglm3"},
                {"output_dir", out.string()},                     {"device", "cpu"},
                {"per_device_train_batch_size", "2"},             {"nproc_per_node", "2"},
                {"logging_steps", "1"},                           {"save_steps", "1000"},
                {"learning_rate", "5e-3"},                        {"num_train_epochs", "1"}};
    for (auto& [k, v] : extra) m[k] = v;
    return TrainingArgs::from_map(m);
}

}  // namespace

TEST(DataParallel, WorldComesFromTorchrunsVariables) {
    {
        Env env({});
        const auto w = dist::world_from_env();
        EXPECT_FALSE(w.distributed());
        EXPECT_EQ(w.rank, 0);
    }
    {
        Env env({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                 {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29555"}});
        const auto w = dist::world_from_env();
        EXPECT_TRUE(w.distributed());
        EXPECT_EQ(w.rank, 3);
        EXPECT_EQ(w.world_size, 4);
        EXPECT_EQ(w.local_rank, 1);
        EXPECT_EQ(w.local_world_size, 2);
        EXPECT_EQ(w.master_addr, "10.0.0.7");
        EXPECT_EQ(w.master_port, 29555);
        EXPECT_FALSE(w.is_main());
    }
    auto message = [](std::initializer_list<std::pair<const char*, const char*>> vars) {
        Env env(vars);
        try {
            dist::world_from_env();
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}).find("RANK is not"), std::string::npos);
    EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}).find("RANK=2"),
              std::string::npos);
    EXPECT_NE(message({{"WORLD_SIZE", "two"}}).find("WORLD_SIZE=two"), std::string::npos);
    EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "0"}}).find("MASTER_ADDR or MASTER_PORT"), std::string::npos);
    EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT"),
              std::string::npos);
}

TEST(DataParallel, RankSlicesCoverEachBatchOnceInOrder) {
    for (int world = 1; world <= 4; ++world) {
        for (int64_t n : {1, 5, 8, 11}) {  // full and partial global batches
            std::vector<int64_t> batch(n);
            std::iota(batch.begin(), batch.end(), 100);
            std::vector<int64_t> joined;
            for (int r = 0; r < world; ++r) {
                const auto part = dist::rank_slice(batch, 3, {.rank = r, .world_size = world});
                EXPECT_LE(part.size(), 3u);
                joined.insert(joined.end(), part.begin(), part.end());
            }
            const auto expected = std::vector<int64_t>(batch.begin(), batch.begin() + std::min<int64_t>(n, 3 * world));
            EXPECT_EQ(joined, expected) << "world " << world << ", " << n << " rows";
        }
    }
}

TEST(DataParallel, TokenCountsEqualWhatCollateCounts) {
    std::vector<data::EncodedExample> ex(3);
    ex[0] = {{1, 2, 3, 4}, {-100, -100, 3, 4}};
    ex[1] = {{5, 6}, {-100, 6}};
    ex[2] = {{7, 8, 9}, {7, -100, 9}};  // a label at position 0 carries no loss after the shift
    const std::vector<int64_t> rows = {2, 0, 1};
    const auto c = count_tokens(ex, rows);
    const auto b = collate(ex, rows, 0, at::kCPU);
    EXPECT_EQ(c.tokens, 9);
    EXPECT_EQ(c.label_tokens, 4);
    EXPECT_EQ(b.tokens, c.tokens);
    EXPECT_EQ(b.label_tokens, c.label_tokens);
}

// The GUI's path: tunebench-cli runs the processes, progress comes from the run's log.
TEST(DataParallel, TrainingProcessesReportProgressStopAndErrorsOfTheCli) {
    test::TempDir tmp;
    init_demo(tmp.path / "demo");
    std::vector<TrainProgress> events;
    const auto r = run_training_processes(demo_args(tmp.path / "demo", tmp.path / "run", {}), TB_CLI,
                                          [&](const TrainProgress& p) { events.push_back(p); });
    int64_t logged = 0, last_step = 0;
    for (const auto& p : events) {
        if (!p.is_log) continue;
        ++logged;
        EXPECT_GT(p.step, last_step);
        EXPECT_GT(p.loss, 0);
        last_step = p.step;
    }
    EXPECT_EQ(r.global_step, 8);  // 32 examples / (2 processes × 2)
    EXPECT_EQ(logged, 8);
    EXPECT_EQ(last_step, 8);
    EXPECT_GT(r.train_loss, 0);
    EXPECT_FALSE(r.stopped_early);
    EXPECT_TRUE(fs::exists(tmp.path / "run" / "adapter_model.safetensors"));

    // Stop and save as the GUI's Stop button asks: every process stops at one step, with a checkpoint.
    std::atomic<int> request{0};
    const auto stopped = run_training_processes(demo_args(tmp.path / "demo", tmp.path / "stopped", {{"num_train_epochs", "1000"}}),
                                                TB_CLI, [&](const TrainProgress& p) {
                                                    if (p.is_log && p.step >= 3) request = static_cast<int>(TrainRequest::StopAndSave);
                                                }, &request);
    EXPECT_TRUE(stopped.stopped_early);
    EXPECT_GE(stopped.global_step, 3);
    EXPECT_TRUE(fs::exists(tmp.path / "stopped" / ("checkpoint-" + std::to_string(stopped.global_step))));

    // Cancel: a CancelledError, as in one process.
    std::atomic<int> cancel{0};
    EXPECT_THROW(run_training_processes(demo_args(tmp.path / "demo", tmp.path / "cancelled", {{"num_train_epochs", "1000"}}),
                                        TB_CLI, [&](const TrainProgress& p) {
                                            if (p.is_log) cancel = static_cast<int>(TrainRequest::Cancel);
                                        }, &cancel),
                 CancelledError);

    // The CLI's error arrives as this process's error, message and hint apart.
    try {
        run_training_processes(demo_args(tmp.path / "demo", tmp.path / "bad", {{"dataset", "no_such_dataset"}}), TB_CLI);
        FAIL() << "no error";
    } catch (const CancelledError&) {
        FAIL() << "not a cancel";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no_such_dataset"), std::string::npos) << e.what();
        EXPECT_FALSE(e.hint().empty());
        EXPECT_EQ(std::string(e.what()).find("(hint:"), std::string::npos) << e.what();
    }
}
