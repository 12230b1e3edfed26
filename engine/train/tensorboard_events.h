// TensorBoard event files, as HF Trainer's TensorBoard callback writes them: TFRecord framing
// (length, masked CRC-32C, one Event protobuf, masked CRC-32C) of scalar and text summaries
// (../shared/spec/FORMATS.md §6). Hand-written: the two message kinds need ~20 bytes of protobuf.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace tb {

uint32_t crc32c(std::string_view data);         // Castagnoli, as TFRecord uses it
uint32_t masked_crc32c(std::string_view data);  // TFRecord's rotate-and-add mask of it
// One TFRecord: u64 length, masked CRC of those 8 bytes, the data, masked CRC of the data.
std::string tfrecord(std::string_view data);

// HF's rewrite_logs: "eval_loss" → "eval/loss", "test_x" → "test/x", anything else → "train/<key>".
std::string tensorboard_tag(const std::string& log_key);

// "events.out.tfevents.<seconds>.<host>.<pid>.0", the name TensorBoard's own writer chooses.
std::string tensorboard_file_name();

// HF's default logging_dir under an output folder: "runs/<Mon DD_HH-MM-SS>_<host>".
std::filesystem::path default_tensorboard_run_dir(const std::filesystem::path& output_dir);

class TensorBoardEvents {
public:
    // Appends to `file` (its folder is created). A new file starts with the file-version event; an
    // existing one (a resumed run's) first keeps, through a temporary copy and a rename, only its
    // whole records of steps ≤ keep_through_step: what the checkpoint had seen, as trainer_log.jsonl.
    TensorBoardEvents(const std::filesystem::path& file, int64_t keep_through_step);

    void scalar(const std::string& tag, double value, int64_t step);
    void text(const std::string& tag, const std::string& text, int64_t step);  // the TEXT tab's summary
    const std::filesystem::path& path() const { return path_; }

private:
    void write_event(const std::string& event);  // one whole record, then flush

    std::filesystem::path path_;
    std::ofstream out_;
};

}  // namespace tb
