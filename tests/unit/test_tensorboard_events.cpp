// TensorBoard event files against FORMATS.md §6's vectors (checked there with tensorboard 2.21's
// own CRC code and EventAccumulator); what tensorboard's reader makes of a whole training run is
// tests/reference/test_tensorboard.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "io/atomic_file.h"
#include "train/tensorboard_events.h"

using namespace tb;
namespace fs = std::filesystem;

namespace {

std::string unhex(const std::string& h) {
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

fs::path fresh_dir(const char* name) {
    const fs::path d = fs::temp_directory_path() / ("tb_events_" + std::to_string(::getpid()) + "_" + name);
    io::remove_tree(d);
    return d;
}

}  // namespace

TEST(TensorBoardEvents, Crc32cAndMask) {
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
    EXPECT_EQ(masked_crc32c(std::string("\x1a\x11" "CRC test, one two")), 0x5794D08Au);
}

TEST(TensorBoardEvents, RecordFramingOfTheSpecFile) {
    // the 88-byte file FORMATS.md §6.3 gives: two events (version; train/loss = 1.5 at step 10)
    const std::string e1 = unhex("0900000040fc54d9411a0d627261696e2e4576656e743a32");
    const std::string e2 = unhex("0900002040fc54d941100a2a130a110a0a747261696e2f6c6f7373150000c03f");
    EXPECT_EQ(tfrecord(e1) + tfrecord(e2),
              unhex("1800000000000000a37f4b220900000040fc54d9411a0d627261696e2e4576656e743a32eced8f9d200000000000000029ed"
                    "a9500900002040fc54d941100a2a130a110a0a747261696e2f6c6f7373150000c03fdc786aa9"));
}

TEST(TensorBoardEvents, TagsAsHfRewriteLogs) {
    EXPECT_EQ(tensorboard_tag("loss"), "train/loss");
    EXPECT_EQ(tensorboard_tag("learning_rate"), "train/learning_rate");
    EXPECT_EQ(tensorboard_tag("epoch"), "train/epoch");
    EXPECT_EQ(tensorboard_tag("eval_loss"), "eval/loss");
    EXPECT_EQ(tensorboard_tag("test_bleu-4"), "test/bleu-4");
    EXPECT_EQ(tensorboard_tag("train_runtime"), "train/train_runtime");
}

TEST(TensorBoardEvents, FileNameAndDefaultFolderAsHf) {
    const std::string name = tensorboard_file_name();
    EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
    EXPECT_EQ(name.substr(name.size() - 2), ".0");
    const fs::path run = default_tensorboard_run_dir("out");
    EXPECT_EQ(run.parent_path(), fs::path("out") / "runs");
    EXPECT_EQ(run.filename().string()[5], '_');  // "Nov27_04-20-31_host"
}

// A resumed run keeps the records up to its checkpoint's step; a record torn by a killed writer is dropped.
TEST(TensorBoardEvents, ReopeningKeepsStepsUpToTheCheckpointAndDropsATornRecord) {
    const fs::path dir = fresh_dir("resume");
    const fs::path file = dir / "runs" / "r" / tensorboard_file_name();
    uintmax_t version_only = 0, one_scalar = 0;
    {
        TensorBoardEvents ev(file, 0);
        version_only = fs::file_size(file);
        ev.scalar("train/loss", 2.5, 1);
        one_scalar = fs::file_size(file) - version_only;
        for (int step = 2; step <= 6; ++step) ev.scalar("train/loss", 2.5, step);
    }
    EXPECT_EQ(fs::file_size(file), version_only + 6 * one_scalar);
    {
        std::ofstream torn(file, std::ios::binary | std::ios::app);
        torn << std::string("\x30\0\0\0\0\0\0\0\x01\x02", 10);  // a record cut off after 10 bytes
    }
    {
        TensorBoardEvents ev(file, 4);  // steps 1–4 stay, 5 and 6 and the torn bytes go
        EXPECT_EQ(fs::file_size(file), version_only + 4 * one_scalar);
        ev.scalar("train/loss", 2.5, 5);
    }
    EXPECT_EQ(fs::file_size(file), version_only + 5 * one_scalar);
    io::remove_tree(dir);
}
