// LLaMA-Factory's dataset registry (dataset_info.json) and its alpaca / sharegpt converters
// (aligner.py v0.9.1, MODELS.md §3.3): data files → conversations ready for a chat template.
// No torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/chat_template.h"

namespace tb::data {

struct DatasetAttr {
    std::string name;
    std::string file_name;  // empty for hub-only entries
    std::string hub_url;    // hf_hub_url / ms_hub_url, for the error message
    std::string formatting = "alpaca";
    bool ranking = false;
    std::map<std::string, std::string> columns;  // prompt, query, response, history, messages, system, tools, …
    std::map<std::string, std::string> tags;     // role_tag, content_tag, user_tag, …
};

// Parses <dir>/dataset_info.json. FileError naming the file and entry when malformed.
std::map<std::string, DatasetAttr> read_dataset_info(const std::filesystem::path& dir);

// One training conversation: user/assistant turns alternating, ending with the assistant's.
struct Example {
    std::vector<ChatMessage> messages;
    std::string system;
    std::string origin;  // "file:line", for messages
};

struct DatasetLoadReport {
    int64_t loaded = 0;
    int64_t dropped = 0;                 // invalid conversations, as LLaMA-Factory drops them
    std::vector<std::string> warnings;   // first few "file:line: why"
};

// Loads one registered dataset (all files of a folder file_name, in name order). max_samples > 0
// keeps the first N. UnsupportedError "not supported: …" for hub-only, preference or tool data.
std::vector<Example> load_dataset(const std::filesystem::path& dir, const DatasetAttr& attr,
                                  int64_t max_samples, DatasetLoadReport* report = nullptr);

// Comma-separated names (LLaMA-Factory's `dataset` key), concatenated in order.
std::vector<Example> load_datasets(const std::filesystem::path& dir, const std::string& names,
                                   int64_t max_samples, DatasetLoadReport* report = nullptr);

// One row of a data file as a conversation (alpaca or sharegpt per attr); nullopt when LLaMA-
// Factory would drop it (why in report). FileError naming `origin` for a malformed row.
std::optional<Example> convert_record(const nlohmann::json& row, const DatasetAttr& attr, const std::string& origin,
                                      DatasetLoadReport* report = nullptr);

// Adds or replaces an entry in <dir>/dataset_info.json (written atomically, other entries kept).
void register_dataset(const std::filesystem::path& dir, const DatasetAttr& attr);
// Throws what register_dataset would (an unreadable registry), before anything is written.
void check_registry_writable(const std::filesystem::path& dir);

}  // namespace tb::data
