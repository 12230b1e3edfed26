// Export = load base in the export dtype, merge each adapter in order (W += B·A·s in fp32,
// rounded once), write the weights sharded, copy config (with torch_dtype updated) and the
// tokenizer. The folder is written under a temporary name and renamed when complete.
#include "export/merge_export.h"
#include "io/json_text.h"
#include "io/path_compare.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "adapters/lora_adapter.h"
#include "core/arg_values.h"
#include "core/error.h"
#include "core/log.h"
#include "core/string_list.h"
#include "io/atomic_file.h"
#include "io/sharded_writer.h"
#include "model/bnb_checkpoint.h"
#include "model/gguf_layout.h"
#include "model/decoder.h"
#include "model/quantization.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

#include <ATen/core/grad_mode.h>

namespace tb {
namespace fs = std::filesystem;

ExportArgs ExportArgs::from_map(const ArgMap& map, std::vector<std::string>* unknown) {
    ExportArgs a;
    bool gguf_type_given = false;
    for (const auto& [k, v] : map) {
        if (k == "model_name_or_path") a.model_name_or_path = v;
        else if (k == "adapter_name_or_path") a.adapter_name_or_path = v;
        else if (k == "export_dir") a.export_dir = v;
        else if (k == "export_size") a.export_size = parse_double(k, v);
        else if (k == "export_device") a.export_device = v;
        else if (k == "export_dtype" || k == "infer_dtype") a.export_dtype = v;
        else if (k == "export_legacy_format") a.export_legacy_format = parse_bool(k, v);
        else if (k == "quantization_bit") a.quantization_bit = v.empty() ? 0 : static_cast<int>(parse_int(k, v));
        else if (k == "export_format") a.export_format = v;
        else if (k == "export_gguf_type") {
            a.export_gguf_type = v;
            gguf_type_given = !v.empty();
        }
        else if (k == "template" || k == "finetuning_type" || k == "trust_remote_code" || k == "export_hub_model_id") continue;
        else if (k == "export_quantization_bit") a.export_quantization_bit = v.empty() ? 0 : static_cast<int>(parse_int(k, v));
        else if (unknown) unknown->push_back(k);
    }
    if (a.model_name_or_path.empty()) throw ConfigError("model_name_or_path is not set", "name the base model folder");
    if (a.export_dir.empty()) throw ConfigError("export_dir is not set", "name the folder to write the merged model to");
    if (a.export_size <= 0) throw ConfigError("export_size should be a positive number of GB");
    check_choice("export_format", a.export_format, {"safetensors", "gguf"});
    if (a.export_quantization_bit != 0 && a.export_quantization_bit != 4 && a.export_quantization_bit != 8) {
        throw ConfigError("export_quantization_bit is " + std::to_string(a.export_quantization_bit) + ", expected 4 or 8 (or nothing)",
                          "4: NF4 for transformers + bitsandbytes, or Q4_K_M GGUF; 8: Q8_0 GGUF");
    }
    if (a.export_format == "gguf" && a.export_quantization_bit && !gguf_type_given)
        a.export_gguf_type = a.export_quantization_bit == 4 ? "Q4_K_M" : "Q8_0";
    if (a.export_quantization_bit && a.export_legacy_format)
        throw ConfigError("export_legacy_format cannot hold a 4-bit export", "remove export_legacy_format: it is written as safetensors");
    check_choice("export_gguf_type", a.export_gguf_type, {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M"});
    if (a.quantization_bit) {
        throw UnsupportedError("cannot merge an adapter into a quantized base model (quantization_bit " +
                                   std::to_string(a.quantization_bit) + ")",
                               "merge into the unquantized base: remove quantization_bit; the adapter trained with QLoRA "
                               "merges into the original model");
    }
    return a;
}

namespace {
// Every export carries it: only a folder holding it is ever replaced by a later export.
constexpr const char* kExportMarker = ".tunebench-export";
constexpr const char* kPartialMarker = ".tunebench-export-partial";  // an export being written

// Removes a leftover of an interrupted export (a hidden sibling carrying one of our markers); a
// folder of that name without one is the user's: refused, never removed.
// Removes an export's own folder with its marker last: a removal killed halfway leaves a folder the
// next export still recognises as its own (the marker first would leave one it must refuse).
void remove_export_folder(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto name = e.path().filename();
        if (name != kPartialMarker && name != kExportMarker) io::remove_tree(e.path());
    }
    io::remove_tree(dir);
}

void remove_leftover(const fs::path& dir) {
    if (!fs::exists(dir)) return;
    if (!fs::exists(dir / kPartialMarker) && !fs::exists(dir / kExportMarker)) {
        throw FileError(dir.string() + " exists and was not written by an export",
                        "Tunebench uses this name while exporting: move that folder away");
    }
    remove_export_folder(dir);
}
}  // namespace

// Refuses an export_dir that would destroy what the user made: the base or an adapter folder, or a
// folder holding one, however the path is spelt (./base, base/, a link), or a non-empty folder that
// an earlier Tunebench export did not write.
void check_export_dir(const fs::path& out, const fs::path& base, const std::vector<std::string>& adapters) {
    std::vector<std::pair<std::string, fs::path>> sources{{"the base model folder", base}};
    for (const auto& a : adapters) sources.emplace_back("the adapter folder", a);
    for (const auto& [what, src] : sources) {
        if (io::is_same_or_inside(src, out)) {
            throw ConfigError("export_dir " + out.string() + " is or contains " + what + " " + src.string() +
                                  ": the export would replace it",
                              "choose a new folder for the merged model");
        }
    }
    if (fs::exists(out) && !fs::is_directory(out))
        throw ConfigError("export_dir " + out.string() + " is a file", "choose a new folder for the merged model");
    if (fs::is_directory(out) && !fs::is_empty(out) && !fs::exists(out / kExportMarker)) {
        throw ConfigError("export_dir " + out.string() + " already holds files that Tunebench did not export",
                          "choose a new or empty folder (only an earlier Tunebench export there is replaced)");
    }
}

void write_export_folder(const fs::path& out, const std::function<void(const fs::path& tmp)>& fill) {
    const fs::path tmp = out.parent_path() / ("." + out.filename().string() + ".partial");
    const fs::path old = out.parent_path() / ("." + out.filename().string() + ".replaced");
    // An export killed between its two renames left the earlier export under the .replaced name
    // and none under its own: put it back before anything else, so a failure now loses nothing.
    if (!fs::exists(out) && fs::exists(old / kExportMarker)) fs::rename(old, out);
    remove_leftover(tmp);
    remove_leftover(old);
    fs::create_directories(tmp);
    io::write_text_atomically(tmp / kPartialMarker, "an export in progress; removed by the next export if it was interrupted\n");
    fill(tmp);
    io::write_text_atomically(tmp / kExportMarker, "written by tunebench-cli export; a later export may replace this folder\n");
    fs::remove(tmp / kPartialMarker);
    // Swap in the new export; the earlier one (checked to be Tunebench's) goes only after that.
    if (!out.parent_path().empty()) fs::create_directories(out.parent_path());
    if (fs::exists(out)) fs::rename(out, old);
    fs::rename(tmp, out);
    if (fs::exists(old)) remove_export_folder(old);
}

std::string export_dtype(const ExportArgs& a) {
    // a 4-/8-bit export computes in the model's own dtype (4-bit: its quant_state names it), wherever it is made
    if (a.export_quantization_bit && a.export_format != "gguf" && a.export_dtype == "auto")
        return ModelConfig::from_folder(a.model_name_or_path).torch_dtype;
    return a.export_dtype;
}

void refuse_quantized_base(const fs::path& base) {
    if (const auto gguf = gguf_model_file(base)) {
        throw UnsupportedError(base.string() + " is a GGUF model (" + gguf->filename().string() + "): its weights are already "
                                   "converted, perhaps quantized, and are not exported again",
                               "export from the Hugging Face model folder it was made from");
    }
    if (const auto kind = prequantized_kind(base)) {
        throw UnsupportedError(base.string() + " holds a bitsandbytes " + (*kind == "int8" ? "8-bit" : "4-bit") +
                                   " model: merging into it, or quantizing it again, would round the weights twice",
                               "export from the original (unquantized) base: an adapter trained on the 4-bit model "
                               "merges into it");
    }
}

ExportReport export_merged_model(const ExportArgs& a, const std::function<void(const std::string&)>& status) {
    auto say = [&](const std::string& s) {
        log::info(s);
        if (status) status(s);
    };
    const fs::path base = a.model_name_or_path, out = a.export_dir;
    refuse_quantized_base(base);
    if (!fs::is_directory(base)) throw FileError("model folder " + base.string() + " does not exist");
    check_export_dir(out, base, split_comma_list(a.adapter_name_or_path));
    say("loading " + base.string());
    auto model = Model::load(base, {.dtype = export_dtype(a), .device = a.export_device == "auto" ? "auto" : a.export_device});
    ExportReport r;
    for (const auto& one : split_comma_list(a.adapter_name_or_path)) {
        say("merging " + one);
        r.merged_modules += merge_lora_adapter(*model, one).merged_modules;
    }
    write_export_folder(out, [&](const fs::path& tmp) {
        io::NamedTensors tensors;
        const int bits = a.export_quantization_bit;
        std::set<const at::Tensor*> quantized;  // the decoder-layer linears, as transformers quantizes them
        if (bits)
            for (Linear* l : model->linears()) quantized.insert(&l->weight);
        for (auto& [name, t] : model->named_weights()) {
            if (!quantized.count(t)) {
                tensors.emplace_back(name, *t);
                continue;
            }
            auto parts = bits == 4 ? bnb_4bit_tensors(name, quantize_nf4(*t, /*double_quant=*/true)) : bnb_8bit_tensors(name, quantize_int8(*t));
            for (auto& part : parts) tensors.push_back(std::move(part));
        }
        for (auto& copy : model->tied_copies()) tensors.push_back(std::move(copy));
        say("writing " + out.string() + (bits == 4 ? " (NF4, double quantization)" : bits == 8 ? " (int8, LLM.int8 rows)" : ""));
        auto shards = io::save_sharded(tmp, tensors, static_cast<int64_t>(std::llround(a.export_size * 1e9)), a.export_legacy_format);
        r.shards = shards.shards;
        r.total_bytes = shards.total_bytes;
        r.dtype = io::dtype_name(model->dtype());
        // config.json of the base with its own keys (auto_map, …), torch_dtype updated
        auto config = io::parse_ordered_json(io::read_file(base / "config.json"), (base / "config.json").string());
        config["torch_dtype"] = r.dtype;
        if (bits) {
            config["quantization_config"] = nlohmann::ordered_json::parse(bits == 4 ? bnb_4bit_quantization_config(model->dtype())
                                                                                    : bnb_8bit_quantization_config());
        }
        io::write_text_atomically(tmp / "config.json", config.dump(2) + "\n");
        for (const auto& e : fs::directory_iterator(base)) {
            const auto name = e.path().filename().string();
            const bool weights = name.find(".safetensors") != std::string::npos || name.find(".bin") != std::string::npos;
            if (!e.is_regular_file() || weights || name == "config.json") continue;
            if (name == "generation_config.json" || name.rfind("tokeniz", 0) == 0 || name == "special_tokens_map.json" ||
                name == "vocab.json" || name == "merges.txt" || name == "added_tokens.json" || name == "ice_text.model" ||
                e.path().extension() == ".py") {
                io::copy_file_atomically(e.path(), tmp / name);
            }
        }
        if (!fs::exists(tmp / "generation_config.json")) {
            nlohmann::ordered_json gen;
            const auto& c = model->config();
            if (c.bos_token_id) gen["bos_token_id"] = *c.bos_token_id;
            if (!c.eos_token_ids.empty()) gen["eos_token_id"] = c.eos_token_ids[0];
            if (c.pad_token_id) gen["pad_token_id"] = *c.pad_token_id;
            io::write_text_atomically(tmp / "generation_config.json", gen.dump(2) + "\n");
        }
    });
    say("exported " + std::to_string(r.total_bytes / 1000000) + " MB in " + std::to_string(r.shards) + " shard(s), " + r.dtype);
    return r;
}

ExportCheck verify_export(const ExportArgs& a, const std::vector<std::string>& prompts) {
    at::NoGradGuard no_grad;
    const std::string device = a.export_device == "auto" ? "auto" : a.export_device;
    auto exported = Model::load(a.export_dir, {.dtype = export_dtype(a), .device = device});
    auto reference = Model::load(a.model_name_or_path, {.dtype = io::dtype_name(exported->dtype()), .device = device});
    const auto adapters = split_comma_list(a.adapter_name_or_path);
    const int bits = a.export_quantization_bit;
    // a 4-/8-bit export against base + adapters merged and quantized the same way: the codes must
    // be the file's, so the logits agree as closely as a dense export's
    for (size_t i = 0; i + (bits ? 0 : 1) < adapters.size(); ++i) merge_lora_adapter(*reference, adapters[i]);
    if (bits) quantize_model(*reference, bits, /*double_quant=*/true);
    else if (!adapters.empty()) load_lora(*reference, adapters.back());  // the last one unmerged
    auto tok = load_tokenizer(a.export_dir, &exported->config());
    const auto name = detect_template(a.export_dir, exported->config(), *tok);
    const auto& tmpl = ChatTemplate::get(name.empty() ? "empty" : name);
    ExportCheck check;
    int64_t same = 0, positions = 0;
    double diff2 = 0, ref2 = 0;
    for (const auto& p : prompts) {
        auto ids = encode_prompt(tmpl, *tok, {}, p, "");
        if (ids.empty()) continue;
        auto input = at::tensor(ids).unsqueeze(0);
        auto x = exported->forward(input, nullptr).to(at::kFloat), y = reference->forward(input, nullptr).to(at::kFloat);
        check.max_abs_diff = std::max(check.max_abs_diff, (x - y).abs().max().item<double>());
        check.logit_scale = std::max(check.logit_scale, y.abs().max().item<double>());
        same += x.argmax(-1).eq(y.argmax(-1)).sum().item<int64_t>();
        diff2 += (x - y).to(at::kDouble).pow(2).sum().item<double>();
        ref2 += y.to(at::kDouble).pow(2).sum().item<double>();
        positions += static_cast<int64_t>(ids.size());
        ++check.prompts;
    }
    check.greedy_agreement = positions ? static_cast<double>(same) / static_cast<double>(positions) : 0;
    check.relative_rms = ref2 > 0 ? std::sqrt(diff2 / ref2) : 0;
    check.tolerance = (exported->dtype() == at::kFloat ? 1e-4 : 5e-2) * check.logit_scale;
    check.ok = check.prompts > 0 && check.max_abs_diff <= check.tolerance;
    return check;
}

}  // namespace tb
