// LoRA attach / save / load / merge on top of Linear::lora.
#include "adapters/lora_adapter.h"
#include "io/json_text.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "core/string_list.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "model/decoder.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

std::string leaf(const std::string& name) { return name.substr(name.rfind('.') + 1); }

bool targeted(const std::string& name, const std::vector<std::string>& targets) {
    for (const auto& t : targets) {
        if (name == t || (name.size() > t.size() && name.compare(name.size() - t.size() - 1, t.size() + 1, "." + t) == 0))
            return true;
    }
    return false;
}

// LoRA's lora_A/lora_B are nn.Linear (".weight"); AdaLoRA's lora_A/B/E are ParameterDict entries (no suffix).
std::string peft_key(const Linear& l, const char* which, bool adalora = false) {
    return "base_model.model." + l.name + "." + which + (adalora ? "" : ".weight");
}

}  // namespace

std::vector<std::string> resolve_lora_targets(Model& model, const std::string& spec) {
    std::set<std::string> available;
    for (Linear* l : model.linears()) available.insert(leaf(l->name));
    std::vector<std::string> out;
    if (spec.empty() || spec == "all") return {available.begin(), available.end()};
    for (const auto& t : split_comma_list(spec)) {
        bool found = false;
        for (Linear* l : model.linears()) found = found || targeted(l->name, {t});
        if (!found) {
            std::string names;
            for (const auto& a : available) names += (names.empty() ? "" : ", ") + a;
            throw ConfigError("lora_target '" + t + "' matches no linear layer of this " + model.config().model_type + " model",
                              "its linear layers are: " + names + " (or use all)");
        }
        out.push_back(t);
    }
    return out;
}

int64_t attach_lora(Model& model, const LoraConfig& c, uint64_t seed) {
    if (c.r <= 0) throw ConfigError("lora_rank should be positive, found " + std::to_string(c.r));
    auto gen = at::detail::createCPUGenerator(seed);
    int64_t params = 0;
    for (Linear* l : model.linears()) {
        if (!targeted(l->name, c.target_modules)) continue;
        const int64_t in = l->in_features(), out = l->out_features();
        auto A = at::empty({c.r, in}, at::kFloat);
        const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // kaiming_uniform(a=sqrt(5))
        A.uniform_(-bound, bound, gen);
        const auto base_dtype = l->quant ? at::kFloat : l->weight.scalar_type();
        auto lw = std::make_shared<LoraWeights>();
        lw->A = A.to(base_dtype).to(model.device(), at::kFloat).requires_grad_(true);
        lw->B = at::zeros({out, c.r}, at::TensorOptions().dtype(at::kFloat).device(model.device())).requires_grad_(true);
        lw->scaling = c.scaling();
        lw->dropout = c.dropout;
        l->lora = lw;
        params += lw->A.numel() + lw->B.numel();
    }
    if (params == 0) throw ConfigError("lora_target matched no module", "check lora_target");
    return params;
}

int64_t attach_adalora(Model& model, const LoraConfig& c, uint64_t seed) {
    if (c.init_r <= 0) throw ConfigError("init_r should be positive, found " + std::to_string(c.init_r));
    auto gen = at::detail::createCPUGenerator(seed);
    const auto on = at::TensorOptions().dtype(at::kFloat).device(model.device());
    int64_t params = 0;
    for (Linear* l : model.linears()) {
        if (!targeted(l->name, c.target_modules)) continue;
        auto lw = std::make_shared<LoraWeights>();
        // PEFT's AdaLoraLayer.reset_lora_parameters: E = 0, A and B ~ N(0, 0.02)
        auto A = at::empty({c.init_r, l->in_features()}, at::kFloat);
        A.normal_(0.0, 0.02, gen);
        auto B = at::empty({l->out_features(), c.init_r}, at::kFloat);
        B.normal_(0.0, 0.02, gen);
        lw->A = A.to(on).requires_grad_(true);
        lw->B = B.to(on).requires_grad_(true);
        lw->E = at::zeros({c.init_r, 1}, on).requires_grad_(true);
        lw->scaling = c.scaling();
        lw->dropout = c.dropout;
        l->lora = lw;
        params += lw->A.numel() + lw->B.numel() + lw->E.numel();
    }
    if (params == 0) throw ConfigError("lora_target matched no module", "check lora_target");
    return params;
}

LoraConfig load_lora(Model& model, const fs::path& dir) {
    LoraConfig c = LoraConfig::read(dir);
    const auto weights_path = dir / "adapter_model.safetensors";
    if (!fs::exists(weights_path)) {
        throw FileError("no adapter_model.safetensors in " + dir.string(),
                        fs::exists(dir / "adapter_model.bin") ? "convert adapter_model.bin to safetensors (PEFT: safe_serialization=True)"
                                                              : "the adapter folder is incomplete");
    }
    io::SafetensorsReader st(weights_path);
    std::set<std::string> used;
    for (Linear* l : model.linears()) {
        const bool ada = c.adalora;
        const auto ka = peft_key(*l, "lora_A", ada), kb = peft_key(*l, "lora_B", ada), ke = peft_key(*l, "lora_E", ada);
        if (!st.has(ka) && !st.has(kb)) continue;
        if (!st.has(ka) || !st.has(kb) || (ada && !st.has(ke)))
            throw FileError(weights_path.string() + ": " + l->name + " has only some of lora_A / lora_B" + (ada ? " / lora_E" : ""));
        auto A = io::to_tensor(st.tensor(ka), at::kFloat, model.device());
        auto B = io::to_tensor(st.tensor(kb), at::kFloat, model.device());
        if (A.dim() != 2 || B.dim() != 2 || A.size(1) != l->in_features() || B.size(0) != l->out_features() ||
            A.size(0) != B.size(1)) {
            throw FileError(weights_path.string() + ": " + l->name + " has lora_A " + std::to_string(A.size(0)) + "x" +
                                std::to_string(A.size(1)) + " and lora_B " + std::to_string(B.size(0)) + "x" +
                                std::to_string(B.size(1)) + ", which do not fit the base weight " +
                                std::to_string(l->out_features()) + "x" + std::to_string(l->in_features()),
                            "this adapter was trained on a different base model");
        }
        auto lw = std::make_shared<LoraWeights>();
        if (ada) {
            const auto E = io::to_tensor(st.tensor(ke), at::kFloat, model.device());
            if (E.dim() != 2 || E.size(0) != A.size(0) || E.size(1) != 1)
                throw FileError(weights_path.string() + ": " + l->name + "'s lora_E should be [" + std::to_string(A.size(0)) +
                                ", 1], the rank of its lora_A");
            const auto pattern = c.rank_pattern.find(l->name + ".lora_E");
            if (pattern != c.rank_pattern.end() &&
                std::count(pattern->second.begin(), pattern->second.end(), true) != A.size(0))
                throw FileError(weights_path.string() + ": " + l->name + " keeps " + std::to_string(A.size(0)) +
                                    " ranks but adapter_config.json's rank_pattern keeps another number",
                                "the adapter folder is damaged");
            used.insert(ke);
            // a loaded AdaLoRA is not trained further: E is folded into A once (the product every
            // forward would compute), and the adapter runs as a LoRA of scale alpha / (init_r + 1e-5)
            A = A * E;
        }
        used.insert(ka);
        used.insert(kb);
        if (A.size(0) == 0) continue;  // an AdaLoRA matrix pruned to rank 0 adds nothing
        lw->A = A;
        lw->B = B;
        lw->scaling = c.scaling();
        lw->dropout = c.dropout;
        l->lora = lw;
    }
    std::vector<std::string> unused;
    for (const auto& n : st.names())
        if (!used.count(n)) unused.push_back(n);
    if (used.empty() || !unused.empty()) {
        throw FileError(weights_path.string() + ": " + std::to_string(unused.size()) +
                            " adapter tensors match no module of the base model (first: " +
                            (unused.empty() ? std::string("none") : unused[0]) + ")",
                        "this adapter was trained on a different base model, or uses modules_to_save, which is not supported yet");
    }
    return c;
}

io::NamedTensors lora_state_dict(Model& model) {
    io::NamedTensors out;
    auto cpu = [](const at::Tensor& t) { return t.detach().to(at::kCPU, at::kFloat).contiguous(); };
    for (Linear* l : model.linears()) {
        if (!l->lora) continue;
        const bool ada = l->lora->E.defined();
        out.emplace_back(peft_key(*l, "lora_A", ada), cpu(l->lora->A));
        out.emplace_back(peft_key(*l, "lora_B", ada), cpu(l->lora->B));
        if (ada) out.emplace_back(peft_key(*l, "lora_E", true), cpu(l->lora->E));
    }
    return out;
}

namespace {

// PEFT's resize_state_dict_by_rank_pattern: each AdaLoRA matrix keeps the ranks its rank_pattern
// keeps (rows of A and E, columns of B); without a pattern (no masking yet) all of them.
io::NamedTensors saved_state_dict(Model& model, const LoraConfig& c) {
    io::NamedTensors all = lora_state_dict(model);
    if (!c.adalora || c.rank_pattern.empty()) return all;
    for (auto& [key, t] : all) {
        const std::string which = key.substr(key.rfind('.') + 1);
        const std::string module = key.substr(std::string("base_model.model.").size(), key.rfind('.') - std::string("base_model.model.").size());
        const auto it = c.rank_pattern.find(module + ".lora_E");
        if (it == c.rank_pattern.end()) continue;
        std::vector<int64_t> kept;
        for (size_t i = 0; i < it->second.size(); ++i)
            if (it->second[i]) kept.push_back(static_cast<int64_t>(i));
        const auto index = at::tensor(kept, at::kLong);
        t = (which == "lora_B" ? t.index_select(1, index) : t.index_select(0, index)).contiguous();
    }
    return all;
}

}  // namespace

void save_lora(Model& model, const LoraConfig& c, const fs::path& dir) {
    fs::create_directories(dir);
    io::save_safetensors(dir / "adapter_model.safetensors", saved_state_dict(model, c));
    io::write_text_atomically(dir / "adapter_config.json", c.to_json());
    std::string targets;
    for (const auto& t : c.target_modules) targets += (targets.empty() ? "" : ", ") + t;
    io::write_text_atomically(dir / "README.md",
                              "---\nlibrary_name: peft\nbase_model: " + c.base_model_name_or_path +
                                  "\n---\n\n# LoRA adapter\n\nTrained with Tunebench. PEFT " +
                                  (c.adalora ? "AdaLoRA, init_r=" + std::to_string(c.init_r) + ", target_r=" + std::to_string(c.target_r)
                                             : "LoRA, r=" + std::to_string(c.r)) +
                                  ", lora_alpha=" + nlohmann::json(c.alpha).dump() + ", target modules: " + targets +
                                  ".\n\nLoad with `PeftModel.from_pretrained(base, this_folder)` or "
                                  "`tunebench-cli chat --model_name_or_path BASE --adapter_name_or_path this_folder`.\n");
}

int merge_lora(Model& model) {
    int merged = 0;
    for (Linear* l : model.linears()) {
        if (!l->lora) continue;
        if (l->quant) {
            throw UnsupportedError("cannot merge a LoRA adapter into a quantized base (" + l->name + ")",
                                   "merge into the unquantized base model: load it without quantization_bit");
        }
        at::NoGradGuard no_grad;
        auto delta = at::matmul(l->lora->B.to(at::kFloat), l->lora->effective_A().to(at::kFloat)) * l->lora->scaling;
        l->weight = (l->weight.to(at::kFloat) + delta).to(l->weight.scalar_type());
        l->lora.reset();
        ++merged;
    }
    return merged;
}

LoraMergeReport merge_lora_adapter(Model& model, const fs::path& dir) {
    auto c = load_lora(model, dir);
    LoraMergeReport r{merge_lora(model), static_cast<int>(c.adalora ? c.init_r : c.r), c.scaling()};
    log::info("adapter: merged ", c.adalora ? "AdaLoRA init_r=" : "LoRA r=", r.rank, " (scaling ", r.scaling, ") into ",
              r.merged_modules, " modules from ", dir.string());
    return r;
}

}  // namespace tb
