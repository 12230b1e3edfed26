// Folder-level checkpoint resolution; per-file parsing lives in safetensors.cpp / torch_bin.cpp.
#include "io/checkpoint.h"
#include "io/json_text.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "io/torch_bin.h"

namespace tb::io {
namespace fs = std::filesystem;

struct Checkpoint::File {
    std::unique_ptr<SafetensorsReader> st;
    std::unique_ptr<TorchBinReader> bin;
    const TensorView& view(const std::string& n) const { return st ? st->tensor(n) : bin->tensor(n); }
    const std::vector<std::string>& names() const { return st ? st->names() : bin->names(); }
    const fs::path& path() const { return st ? st->path() : bin->path(); }
    const MappedFile& file() const { return st ? st->file() : bin->file(); }
};

namespace {
std::vector<std::string> shard_files(const fs::path& index) {
    nlohmann::json j;
    try {
        j = parse_json(read_file(index), index.string());
    } catch (const nlohmann::json::parse_error& e) {
        throw FileError(index.string() + " is not valid JSON: " + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
        throw FileError(index.string() + " has no \"weight_map\" object",
                        "a sharded checkpoint index maps every tensor name to its shard file");
    }
    std::set<std::string> files;
    for (auto& [k, v] : j["weight_map"].items()) {
        if (!v.is_string()) throw FileError(index.string() + ": weight_map." + k + " is not a file name");
        files.insert(v.get<std::string>());
    }
    return {files.begin(), files.end()};
}
}  // namespace

Checkpoint::Checkpoint(const fs::path& folder) {
    std::vector<fs::path> paths;
    if (fs::exists(folder / "model.safetensors.index.json")) {
        format_ = "safetensors";
        for (auto& f : shard_files(folder / "model.safetensors.index.json")) paths.push_back(folder / f);
    } else if (fs::exists(folder / "model.safetensors")) {
        format_ = "safetensors";
        paths.push_back(folder / "model.safetensors");
    } else if (fs::exists(folder / "pytorch_model.bin.index.json")) {
        format_ = "bin";
        for (auto& f : shard_files(folder / "pytorch_model.bin.index.json")) paths.push_back(folder / f);
    } else if (fs::exists(folder / "pytorch_model.bin")) {
        format_ = "bin";
        paths.push_back(folder / "pytorch_model.bin");
    } else {
        throw FileError("no weights in " + folder.string() +
                            ": expected model.safetensors, model.safetensors.index.json, "
                            "pytorch_model.bin or pytorch_model.bin.index.json",
                        "point --model_name_or_path at a complete Hugging Face model folder");
    }
    for (const auto& p : paths) {
        if (!fs::exists(p)) {
            throw FileError("shard " + p.string() + " listed in the index is missing",
                            "the download is incomplete; fetch every shard");
        }
        auto f = std::make_unique<File>();
        if (format_ == "safetensors") f->st = std::make_unique<SafetensorsReader>(p);
        else f->bin = std::make_unique<TorchBinReader>(p);
        for (const auto& n : f->names()) {
            if (where_.emplace(n, f.get()).second) names_.push_back(n);
        }
        files_.push_back(std::move(f));
    }
}

Checkpoint::~Checkpoint() = default;

const TensorView& Checkpoint::view(const std::string& name) const {
    auto it = where_.find(name);
    if (it == where_.end()) throw FileError("tensor '" + name + "' is not in the checkpoint");
    return it->second->view(name);
}

fs::path Checkpoint::file_of(const std::string& name) const {
    auto it = where_.find(name);
    return it == where_.end() ? fs::path() : it->second->path();
}

uint64_t Checkpoint::offset_of(const std::string& name) const {
    const File* f = where_.at(name);
    return static_cast<uint64_t>(f->view(name).data - f->file().data());
}

}  // namespace tb::io
