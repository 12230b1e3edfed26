#include "infer/prediction_job.h"

#include <cstdio>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/json_text.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

std::string canonical(const std::string& path) {
    if (path.empty()) return path;
    std::error_code ec;
    const auto p = fs::weakly_canonical(path, ec);
    return ec ? path : p.string();
}

std::string shown(const ordered_json& v) { return io::json_excerpt(v, 80); }

}  // namespace

ordered_json inference_identity(const InferenceArgs& a) {
    const auto& g = a.generation;
    return {{"model", canonical(a.model_name_or_path)},
            {"adapter", canonical(a.adapter_name_or_path)},
            {"template", a.template_name},
            {"system", a.system},
            {"dtype", a.dtype},
            {"quantization_bit", a.quantization_bit},
            {"do_sample", g.do_sample},
            {"temperature", g.temperature},
            {"top_p", g.top_p},
            {"top_k", g.top_k},
            {"repetition_penalty", g.repetition_penalty},
            {"max_new_tokens", g.max_new_tokens},
            {"seed", g.seed},
            {"stop_strings", g.stop_strings}};
}

std::string content_digest(const std::string& bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

fs::path job_file(const fs::path& output) { return output.parent_path() / (output.filename().string() + ".tunebench-job.json"); }

void claim_prediction_output(const fs::path& output, const ordered_json& job, const std::string& option) {
    const fs::path record = job_file(output);
    if (!fs::exists(output)) {
        io::write_text_atomically(record, io::dump_json(job, 2) + "\n");
        return;
    }
    if (!fs::is_regular_file(output)) throw ConfigError(option + " " + output.string() + " is not a file", "name a new file");
    if (!fs::exists(record)) {
        throw ConfigError(option + " " + output.string() + " already exists and was not written by a Tunebench prediction (no " +
                              record.filename().string() + " beside it): it is left as it is",
                          "choose a new file name");
    }
    ordered_json earlier;
    try {
        earlier = io::parse_ordered_json(io::read_file(record), record.string());
    } catch (const nlohmann::json::exception& e) {
        throw FileError(record.string() + " is damaged (" + e.what() + ")", "choose a new " + option);
    }
    std::string differences;
    for (const auto& [key, value] : job.items()) {
        const ordered_json before = earlier.is_object() && earlier.contains(key) ? earlier[key] : ordered_json();
        if (before != value) differences += (differences.empty() ? "" : "; ") + key + ": was " + shown(before) + ", now " + shown(value);
    }
    if (!differences.empty()) {
        throw ConfigError(option + " " + output.string() + " holds the rows of another job (" + differences +
                              "); to keep them safe this run stops",
                          "choose a new " + option + " for this job, or rerun with the earlier settings to finish that one");
    }
}

}  // namespace tb
