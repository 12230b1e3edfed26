// What a prediction run is (input, prompt, model, adapter, generation settings), recorded beside
// its output as <output>.tunebench-job.json. A rerun resumes only the same job; an output that
// another job wrote, or that Tunebench did not write, is refused with what differs — a user's
// file is never overwritten and finished rows are never mixed with another job's.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "infer/inference_args.h"

namespace tb {

// The inference settings that change a prediction (paths compared canonically).
nlohmann::ordered_json inference_identity(const InferenceArgs& args);
// A 64-bit FNV-1a digest as hex: identifies an input's content (not a security hash).
std::string content_digest(const std::string& bytes);

std::filesystem::path job_file(const std::filesystem::path& output);

// Before writing `output` (`option` names it in messages, e.g. "--output"): when it exists it must
// carry this job's record (ConfigError listing each differing setting, or saying the file is not
// a Tunebench output); when it does not, the record is written for the run to come.
void claim_prediction_output(const std::filesystem::path& output, const nlohmann::ordered_json& job,
                             const std::string& option);

}  // namespace tb
