// Registry parsing and the alpaca / sharegpt → conversation conversion.
#include "data/dataset_registry.h"
#include "io/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "core/string_list.h"
#include "data/records.h"
#include "io/atomic_file.h"

namespace tb::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string where(const fs::path& file, const Record& r) { return file.string() + ":" + std::to_string(r.line); }

// A cell as text: strings as they are, numbers and booleans as JSON writes them, null as "".
std::string cell_text(const json& v, const std::string& origin, const std::string& column) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return {};
    if (v.is_number() || v.is_boolean()) return v.dump();
    throw FileError(origin + ": column '" + column + "' should be text, found " + v.type_name(),
                    "map a text column in dataset_info.json \"columns\"");
}

// The column a role reads: the entry's "columns" mapping, else LLaMA-Factory's default
// (parser.py DatasetAttr); empty when the role has none.
std::string column_name(const DatasetAttr& a, const std::string& role) {
    if (auto it = a.columns.find(role); it != a.columns.end()) return it->second;
    if (a.formatting == "alpaca") {
        if (role == "prompt") return "instruction";
        if (role == "query") return "input";
        if (role == "response") return "output";
    } else if (role == "messages") {
        return "conversations";
    }
    return {};
}

const json* column(const Record& r, const DatasetAttr& a, const std::string& role) {
    const std::string name = column_name(a, role);
    if (name.empty()) return nullptr;
    auto f = r.value.find(name);
    return f == r.value.end() ? nullptr : &*f;
}

std::string columns_of(const Record& r) {
    std::string s;
    for (auto it = r.value.begin(); it != r.value.end(); ++it) s += (s.empty() ? "" : ", ") + it.key();
    return s;
}

std::string required_text(const Record& r, const DatasetAttr& a, const std::string& role, const std::string& origin) {
    const json* v = column(r, a, role);
    if (!v) {
        throw FileError(origin + ": row has no '" + column_name(a, role) + "' column (the " + role +
                            " of dataset '" + a.name + "'); it has: " + columns_of(r),
                        "map the columns in dataset_info.json, e.g. \"columns\": {\"prompt\": \"question\", "
                        "\"response\": \"answer\"}");
    }
    return cell_text(*v, origin, column_name(a, role));
}

void drop(DatasetLoadReport* report, const std::string& why) {
    if (!report) return;
    ++report->dropped;
    if (report->warnings.size() < 5) report->warnings.push_back(why);
}

// aligner.py convert_alpaca: history pairs, then "instruction\ninput" as the new user turn.
bool convert_alpaca(const Record& r, const DatasetAttr& a, const std::string& origin, Example& ex,
                    DatasetLoadReport* report) {
    if (const json* h = column(r, a, "history"); h && !h->is_null()) {
        if (!h->is_array()) {
            throw FileError(origin + ": history should be a list of [question, answer] pairs",
                            "write \"history\": [[\"q1\", \"a1\"], [\"q2\", \"a2\"]]");
        }
        for (const auto& pair : *h) {
            if (!pair.is_array() || pair.size() != 2) {
                throw FileError(origin + ": each history entry should be a [question, answer] pair",
                                "write \"history\": [[\"q1\", \"a1\"]]");
            }
            ex.messages.push_back({"user", cell_text(pair[0], origin, "history")});
            ex.messages.push_back({"assistant", cell_text(pair[1], origin, "history")});
        }
    }
    std::string prompt = required_text(r, a, "prompt", origin);
    std::string query;
    if (const json* q = column(r, a, "query")) query = cell_text(*q, origin, column_name(a, "query"));
    std::string user = prompt;
    if (!query.empty()) user = prompt.empty() ? query : prompt + "\n" + query;
    std::string response = required_text(r, a, "response", origin);
    if (const json* s = column(r, a, "system")) ex.system = cell_text(*s, origin, column_name(a, "system"));
    if (response.empty()) {
        drop(report, origin + ": empty " + column_name(a, "response") + " (row skipped)");
        return false;
    }
    ex.messages.push_back({"user", user});
    ex.messages.push_back({"assistant", response});
    return true;
}

std::string tag(const DatasetAttr& a, const std::string& key, const std::string& fallback) {
    auto it = a.tags.find(key);
    return it == a.tags.end() ? fallback : it->second;
}

// aligner.py convert_sharegpt: a leading system turn becomes the system prompt; roles must
// alternate user/assistant and the count be even, otherwise the conversation is dropped.
bool convert_sharegpt(const Record& r, const DatasetAttr& a, const std::string& origin, Example& ex,
                      DatasetLoadReport* report) {
    const json* msgs = column(r, a, "messages");
    if (!msgs || !msgs->is_array()) {
        throw FileError(origin + ": row has no message list '" + column_name(a, "messages") + "'; it has: " + columns_of(r),
                        "sharegpt rows need \"conversations\": [{\"from\": \"human\", \"value\": ...}, ...]");
    }
    const auto role_tag = tag(a, "role_tag", "from"), content_tag = tag(a, "content_tag", "value");
    const auto user_tag = tag(a, "user_tag", "human"), assistant_tag = tag(a, "assistant_tag", "gpt");
    const auto observation_tag = tag(a, "observation_tag", "observation"),
               function_tag = tag(a, "function_tag", "function_call"), system_tag = tag(a, "system_tag", "system");
    size_t start = 0;
    if (!msgs->empty() && (*msgs)[0].is_object() && (*msgs)[0].value(role_tag, "") == system_tag) {
        ex.system = cell_text((*msgs)[0].value(content_tag, json()), origin, content_tag);
        start = 1;
    } else if (const json* s = column(r, a, "system")) {
        ex.system = cell_text(*s, origin, column_name(a, "system"));
    }
    for (size_t i = start; i < msgs->size(); ++i) {
        const auto& m = (*msgs)[i];
        if (!m.is_object() || !m.contains(role_tag) || !m.contains(content_tag)) {
            throw FileError(origin + ": message " + std::to_string(i + 1) + " needs '" + role_tag + "' and '" +
                                content_tag + "'",
                            "for OpenAI-style messages set \"tags\": {\"role_tag\": \"role\", \"content_tag\": "
                            "\"content\", \"user_tag\": \"user\", \"assistant_tag\": \"assistant\"}");
        }
        const std::string role = m[role_tag].is_string() ? m[role_tag].get<std::string>() : "";
        if (role == observation_tag || role == function_tag) {
            throw UnsupportedError("not supported: dataset '" + a.name + "' has tool-calling turns ('" + role + "' at " +
                                       origin + ")",
                                   "Tunebench's templates format user and assistant turns only; use a dataset "
                                   "without function calls");
        }
        const bool odd = (i - start) % 2 == 0;
        if ((odd && role != user_tag) || (!odd && role != assistant_tag)) {
            drop(report, origin + ": role '" + role + "' out of turn (conversation skipped)");
            return false;
        }
        ex.messages.push_back({odd ? "user" : "assistant", cell_text(m[content_tag], origin, content_tag)});
    }
    if (ex.messages.empty() || ex.messages.size() % 2 != 0) {
        drop(report, origin + ": conversation does not end with an assistant turn (skipped)");
        return false;
    }
    if (ex.messages.back().content.empty()) {
        drop(report, origin + ": empty last reply (conversation skipped)");
        return false;
    }
    return true;
}

std::vector<fs::path> data_files(const fs::path& dir, const DatasetAttr& a) {
    fs::path p = dir / a.file_name;
    if (fs::is_directory(p)) {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(p)) {
            if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) throw FileError("dataset folder " + p.string() + " holds no files");
        return files;
    }
    if (!fs::exists(p)) {
        throw FileError("dataset '" + a.name + "': file " + p.string() + " not found",
                        "put the file in dataset_dir or correct file_name in dataset_info.json");
    }
    return {p};
}

}  // namespace

std::map<std::string, DatasetAttr> read_dataset_info(const fs::path& dir) {
    const fs::path file = dir / "dataset_info.json";
    if (!fs::exists(file)) {
        throw FileError(file.string() + " not found", "dataset_dir must hold a dataset_info.json registry "
                                                      "(tunebench-cli convert --dataset_dir writes one)");
    }
    const std::string text = io::read_file(file);
    json root;
    try {
        root = io::parse_json(text, file.string());
    } catch (const json::parse_error& e) {
        throw FileError(file.string() + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + std::min(e.byte, text.size()), '\n')) +
                            ": invalid JSON: " + e.what());
    }
    if (!root.is_object()) throw FileError(file.string() + " should be a JSON object of name → entry");
    std::map<std::string, DatasetAttr> out;
    for (auto it = root.begin(); it != root.end(); ++it) {
        const auto& e = it.value();
        DatasetAttr a;
        a.name = it.key();
        if (!e.is_object()) throw FileError(file.string() + ": entry '" + a.name + "' should be an object");
        try {
            a.file_name = e.value("file_name", "");
            a.hub_url = e.value("hf_hub_url", e.value("ms_hub_url", e.value("script_url", "")));
            a.formatting = e.value("formatting", "alpaca");
            a.ranking = e.value("ranking", false);
            if (e.contains("columns")) {
                for (auto c = e["columns"].begin(); c != e["columns"].end(); ++c) a.columns[c.key()] = c.value().get<std::string>();
            }
            if (e.contains("tags")) {
                for (auto c = e["tags"].begin(); c != e["tags"].end(); ++c) a.tags[c.key()] = c.value().get<std::string>();
            }
        } catch (const json::exception& ex) {
            throw FileError(file.string() + ": entry '" + a.name + "': " + ex.what(),
                            "columns and tags map names to column names (strings)");
        }
        if (a.formatting != "alpaca" && a.formatting != "sharegpt") {
            throw FileError(file.string() + ": entry '" + a.name + "': formatting '" + a.formatting + "' is unknown",
                            "use alpaca or sharegpt");
        }
        out.emplace(a.name, std::move(a));
    }
    return out;
}

// One row → Example by its formatting. KTO data (a kto_tag column) marks rejected answers with
// false: those must never become SFT targets, so such rows are dropped with a note.
static bool convert(const Record& r, const DatasetAttr& a, const std::string& origin, Example& ex, DatasetLoadReport* report) {
    if (const json* kto = column(r, a, "kto_tag"); kto && kto->is_boolean() && !kto->get<bool>()) {
        drop(report, origin + ": kto_tag is false (a rejected answer), not trained as an SFT target");
        return false;
    }
    return a.formatting == "alpaca" ? convert_alpaca(r, a, origin, ex, report) : convert_sharegpt(r, a, origin, ex, report);
}

std::vector<Example> load_dataset(const fs::path& dir, const DatasetAttr& a, int64_t max_samples,
                                  DatasetLoadReport* report) {
    if (a.file_name.empty()) {
        throw UnsupportedError("not supported: dataset '" + a.name + "' is only on a hub (" +
                                   (a.hub_url.empty() ? "no file_name" : a.hub_url) + ")",
                               "Tunebench works offline: download the data into dataset_dir and set file_name");
    }
    if (a.ranking) {
        throw UnsupportedError("not supported: dataset '" + a.name + "' is preference data (ranking: true) for "
                               "reward modelling or DPO",
                               "Tunebench trains stage sft; choose an instruction dataset");
    }
    for (const char* k : {"images", "videos", "audios"}) {
        if (a.columns.count(k)) {
            throw UnsupportedError("not supported: dataset '" + a.name + "' is multimodal (" + k + ")",
                                   "Tunebench trains text-only models");
        }
    }
    std::vector<Example> out;
    for (const auto& file : data_files(dir, a)) {
        for (const auto& r : read_records(file)) {
            if (max_samples > 0 && static_cast<int64_t>(out.size()) >= max_samples) break;
            Example ex;
            ex.origin = where(file, r);
            if (const json* tools = column(r, a, "tools"); tools && !tools->is_null() &&
                                                           !(tools->is_string() && tools->get<std::string>().empty())) {
                throw UnsupportedError("not supported: dataset '" + a.name + "' has tool definitions (" + ex.origin + ")",
                                       "Tunebench's templates format user and assistant turns only");
            }
            if (convert(r, a, ex.origin, ex, report)) out.push_back(std::move(ex));
        }
    }
    if (report) report->loaded += static_cast<int64_t>(out.size());
    return out;
}

std::optional<Example> convert_record(const json& row, const DatasetAttr& a, const std::string& origin,
                                      DatasetLoadReport* report) {
    Example ex;
    ex.origin = origin;
    const Record r{row, 0};
    if (!convert(r, a, origin, ex, report)) return std::nullopt;
    return ex;
}

std::vector<Example> load_datasets(const fs::path& dir, const std::string& names, int64_t max_samples,
                                   DatasetLoadReport* report) {
    auto info = read_dataset_info(dir);
    std::vector<Example> all;
    for (const auto& name : split_comma_list(names)) {
        auto it = info.find(name);
        if (it == info.end()) {
            std::string known;
            for (const auto& [k, v] : info) {
                if (!v.file_name.empty()) known += (known.empty() ? "" : ", ") + k;
            }
            throw ConfigError("dataset '" + name + "' is not in " + (dir / "dataset_info.json").string(),
                              "registered datasets with a local file: " + known);
        }
        auto part = load_dataset(dir, it->second, max_samples, report);
        all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    if (all.empty()) {
        throw ConfigError("no training examples in dataset '" + names + "'",
                          report && !report->warnings.empty() ? report->warnings.front() : "check the data files");
    }
    return all;
}

// The registry as it is on disk, for adding an entry: refuses (and so never rewrites) a file that
// is not valid JSON or not an object of name → entry.
static nlohmann::ordered_json registry_for_update(const fs::path& dir) {
    const fs::path file = dir / "dataset_info.json";
    nlohmann::ordered_json root = nlohmann::ordered_json::object();  // keep the user's entry order
    if (!fs::exists(file)) return root;
    try {
        root = io::parse_ordered_json(io::read_file(file), file.string());
    } catch (const json::parse_error& e) {
        throw FileError(file.string() + ": invalid JSON, not overwriting it: " + e.what());
    }
    if (!root.is_object())
        throw FileError(file.string() + " should be a JSON object of name → entry; not overwriting it",
                        "fix or move the file, then register the dataset again");
    return root;
}

void check_registry_writable(const fs::path& dir) { registry_for_update(dir); }

void register_dataset(const fs::path& dir, const DatasetAttr& a) {
    const fs::path file = dir / "dataset_info.json";
    auto root = registry_for_update(dir);
    nlohmann::ordered_json entry = {{"file_name", a.file_name}};
    if (a.formatting != "alpaca") entry["formatting"] = a.formatting;
    if (!a.columns.empty()) entry["columns"] = a.columns;
    if (!a.tags.empty()) entry["tags"] = a.tags;
    root[a.name] = entry;
    io::write_text_atomically(file, root.dump(2, ' ', false) + "\n");
}

}  // namespace tb::data
