// The benchmark's measurements: each figure after a warm-up of the same shape, device synchronised
// by the host copy of the chosen ids that ends every prefill and step.
#include "infer/benchmark.h"

#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "adapters/lora_adapter.h"
#include "core/device_memory.h"
#include "core/error.h"
#include "core/log.h"
#include "core/string_list.h"
#include "export/ggml_quants.h"
#include "infer/decode_context.h"
#include "io/gguf_reader.h"
#include "io/tensor_io.h"
#include "model/gguf_layout.h"
#include "model/quantization.h"
#include "model/static_kv_cache.h"

namespace tb {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<int64_t> synthetic_prompt(int64_t n, int64_t vocab, int64_t row) {
    std::vector<int64_t> ids(n);
    for (int64_t i = 0; i < n; ++i) ids[i] = ((i + 131 * row) * 7919 + 13) % (vocab - 10) + 5;
    return ids;
}

std::string device_name(const at::Device& d) {
    return d.is_cuda() ? "cuda:" + std::to_string(d.has_index() ? d.index() : 0) : "cpu";
}
}  // namespace

namespace {
void check_model_path(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path))
        throw FileError("model " + path.string() + " does not exist", "pass --model_name_or_path DIR (a model folder or a GGUF file)");
}

// Every figure of one model, loaded by `load` (timed as the load).
BenchReport measure(const BenchOptions& o, const std::string& label, const std::function<std::shared_ptr<Model>()>& load);
}  // namespace

BenchReport run_bench(const BenchOptions& o) {
    const auto& a = o.inference;
    check_model_path(a.model_name_or_path);
    return measure(o, a.model_name_or_path, [&] {
        auto model = Model::load(a.model_name_or_path, {.dtype = a.dtype, .device = a.device,
                                                        .quantization_bit = a.quantization_bit, .flash_attn = a.flash_attn});
        for (const auto& one : split_comma_list(a.adapter_name_or_path)) {
            if (a.quantization_bit) load_lora(*model, one);
            else merge_lora_adapter(*model, one);
        }
        return model;
    });
}

namespace {
// A GGUF file's quantized weight types ("Q4_K + Q6_K"), largest share first; empty for a float file
// or a model that is not GGUF.
std::string gguf_quantized_types(const std::filesystem::path& path) {
    const auto file = gguf_model_file(path);
    if (!file) return "";
    io::GgufReader r(*file);
    std::vector<std::pair<uint64_t, std::string>> bytes;
    for (const auto& t : r.tensors()) {
        const auto type = static_cast<ggml::Type>(t.type);
        if (type == ggml::Type::F32 || type == ggml::Type::F16 || type == ggml::Type::BF16) continue;
        const std::string name = ggml::traits(type).name;
        auto at = std::find_if(bytes.begin(), bytes.end(), [&](const auto& b) { return b.second == name; });
        if (at == bytes.end()) bytes.emplace_back(t.nbytes, name);
        else at->first += t.nbytes;
    }
    std::sort(bytes.begin(), bytes.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    std::string out;
    for (const auto& [n, name] : bytes) out += (out.empty() ? "" : " + ") + name;
    return out;
}
}  // namespace

std::string dequantized_note(const std::filesystem::path& model, const std::string& dtype) {
    const std::string types = gguf_quantized_types(model);
    if (types.empty()) return "";
    return types + " weights dequantized to " + dtype +
           " at load: speed and memory of the dense model (llama.cpp and Ollama run the file quantized)";
}

std::vector<BenchReport> run_bench_compare(const BenchOptions& o, const std::vector<std::string>& more) {
    const auto& a = o.inference;
    check_model_path(a.model_name_or_path);
    for (const auto& m : more) check_model_path(m);
    const auto adapters = split_comma_list(a.adapter_name_or_path);
    // merge: 0 base only, 1 the last adapter unmerged (the earlier ones merged), 2 all merged
    auto base = [&](int merge, int bits) {
        auto model = Model::load(a.model_name_or_path, {.dtype = a.dtype, .device = a.device, .flash_attn = a.flash_attn});
        for (size_t i = 0; merge > 0 && i < adapters.size(); ++i) {
            if (merge == 1 && i + 1 == adapters.size()) load_lora(*model, adapters[i]);
            else merge_lora_adapter(*model, adapters[i]);
        }
        if (bits) quantize_model(*model, bits, /*double_quant=*/true);
        return model;
    };
    const std::string merged = adapters.empty() ? "base" : "merged";
    std::vector<std::pair<std::string, std::function<std::shared_ptr<Model>()>>> variants;
    variants.emplace_back("base", [&] { return base(0, 0); });
    if (!adapters.empty()) {
        variants.emplace_back("base + adapter", [&] { return base(1, 0); });
        variants.emplace_back("merged", [&] { return base(2, 0); });
    }
    variants.emplace_back(merged + ", int8", [&] { return base(2, 8); });
    variants.emplace_back(merged + ", NF4", [&] { return base(2, 4); });
    std::vector<BenchReport> reports;
    for (const auto& [label, load] : variants) {
        log::info("bench --compare: ", label);
        reports.push_back(measure(o, label, load));
    }
    for (const auto& m : more) {  // each --compare_with model as it loads, with what ran if not that
        const std::string label = std::filesystem::path(m).filename().string();
        log::info("bench --compare: ", label);
        std::string dtype;
        reports.push_back(measure(o, label, [&] {
            auto model = Model::load(m, {.dtype = a.dtype, .device = a.device, .flash_attn = a.flash_attn});
            dtype = io::dtype_name(model->dtype());
            return model;
        }));
        reports.back().note = dequantized_note(m, dtype);
    }
    return reports;
}

namespace {
BenchReport measure(const BenchOptions& o, const std::string& label, const std::function<std::shared_ptr<Model>()>& load) {
    const auto& a = o.inference;
    BenchReport r;
    r.model = a.model_name_or_path;
    r.variant = label;
    const auto requested = resolve_device(a.device);
    reset_peak_device_memory(device_name(requested));
    auto t0 = Clock::now();
    std::shared_ptr<Model> model = load();
    const std::string dev = device_name(model->device());
    {
        c10::InferenceMode guard;  // wait for the copies to the device to finish
        (void)model->embedding().sum().item<double>();
    }
    r.load_s = since(t0);
    r.device = dev;
    r.dtype = c10::toString(model->dtype());
    r.weights_bytes = device_memory(dev).current;
    const auto& c = model->config();
    GenerationConfig greedy;
    greedy.do_sample = false;

    // Time to first token: prefill + the first choice, one row.
    for (int64_t n : o.ttft_prompts) {
        DecodeContext ctx(model, greedy, {}, {.slots = 1, .capacity = n + 16, .cuda_graphs = o.cuda_graphs});
        const auto prompt = synthetic_prompt(n, c.vocab_size, 0);
        ctx.start(0, prompt, 0, 1);  // warm-up
        double best = 1e30;
        for (int rep = 0; rep < 3; ++rep) {
            auto t = Clock::now();
            ctx.start(0, prompt, 0, 1);
            best = std::min(best, since(t));
        }
        r.ttft.push_back({n, best});
        log::info("time to first token, ", n, "-token prompt: ", best * 1000, " ms");
    }
    // Decode: every row prefilled, then new_tokens - 1 steps of all rows at once.
    for (int64_t batch : o.batch_sizes) {
        const int64_t capacity = o.decode_prompt + o.new_tokens + 16;
        DecodeContext ctx(model, greedy, {}, {.slots = batch, .capacity = capacity, .cuda_graphs = o.cuda_graphs});
        auto run = [&](int64_t steps) {
            for (int64_t s = 0; s < batch; ++s) ctx.start(s, synthetic_prompt(o.decode_prompt, c.vocab_size, s), 0, 1);
            auto t = Clock::now();
            for (int64_t i = 0; i < steps; ++i) ctx.step();
            const double seconds = since(t);
            for (int64_t s = 0; s < batch; ++s) ctx.finish(s);
            return seconds;
        };
        reset_peak_device_memory(dev);
        run(std::min<int64_t>(8, o.new_tokens - 1));  // warm-up: kernels chosen, graph captured
        const int64_t steps = o.new_tokens - 1;
        const double seconds = run(steps);
        BenchReport::Decode d;
        d.batch = batch;
        d.step_ms = seconds / steps * 1000;
        d.tokens_per_s = static_cast<double>(batch * steps) / seconds;
        d.kv_bytes = StaticKVCache::bytes_per_slot(c, capacity, model->dtype()) * batch;
        d.peak_bytes = device_memory(dev).peak;
        d.cuda_graph = ctx.graph_captured();
        r.decode.push_back(d);
        r.peak_bytes = std::max(r.peak_bytes, d.peak_bytes);
        log::info("decode, batch ", batch, ": ", d.tokens_per_s, " tokens/s (", d.step_ms, " ms per step",
                  d.cuda_graph ? ", CUDA graph" : "", ")");
    }
    r.peak_bytes = std::max(r.peak_bytes, device_memory(dev).peak);
    return r;
}
}  // namespace

std::string bench_compare_table(const std::vector<BenchReport>& reports) {
    const double gib = 1024.0 * 1024 * 1024;
    std::string s;
    char cell[256];
    if (reports.empty()) return s;
    std::snprintf(cell, sizeof cell, "%s on %s\n", reports[0].model.c_str(), reports[0].device.c_str());
    s += cell;
    std::snprintf(cell, sizeof cell, "%-28s %8s %10s", "variant", "load s", "weights");
    s += cell;
    for (const auto& d : reports[0].decode) {
        std::snprintf(cell, sizeof cell, " %12s", ("tok/s b=" + std::to_string(d.batch)).c_str());
        s += cell;
    }
    std::snprintf(cell, sizeof cell, " %10s\n", "peak");
    s += cell;
    for (const auto& r : reports) {
        std::snprintf(cell, sizeof cell, "%-28s %8.2f %6.2f GiB", r.variant.substr(0, 28).c_str(), r.load_s, r.weights_bytes / gib);
        s += cell;
        for (const auto& d : r.decode) {
            std::snprintf(cell, sizeof cell, " %12.1f", d.tokens_per_s);
            s += cell;
        }
        std::snprintf(cell, sizeof cell, " %6.2f GiB\n", r.peak_bytes / gib);
        s += cell;
    }
    for (const auto& r : reports)
        if (!r.note.empty()) s += "note: " + r.variant + ": " + r.note + "\n";
    return s;
}

std::string bench_table(const BenchReport& r) {
    const double gib = 1024.0 * 1024 * 1024;
    std::string s;
    char line[256];
    std::snprintf(line, sizeof line, "%s, %s on %s\n", r.model.c_str(), r.dtype.c_str(), r.device.c_str());
    s += line;
    std::snprintf(line, sizeof line, "%-34s %10.2f s\n", "load", r.load_s);
    s += line;
    std::snprintf(line, sizeof line, "%-34s %10.2f GiB\n", "weights in device memory", r.weights_bytes / gib);
    s += line;
    for (const auto& t : r.ttft) {
        std::snprintf(line, sizeof line, "time to first token, prompt %-6lld %10.1f ms\n", (long long)t.prompt,
                      t.seconds * 1000);
        s += line;
    }
    for (const auto& d : r.decode) {
        std::snprintf(line, sizeof line, "decode, batch %-20lld %10.1f tokens/s  (%.2f ms/step, KV %.2f GiB, peak %.2f GiB%s)\n",
                      (long long)d.batch, d.tokens_per_s, d.step_ms, d.kv_bytes / gib, d.peak_bytes / gib,
                      d.cuda_graph ? ", CUDA graph" : "");
        s += line;
    }
    std::snprintf(line, sizeof line, "%-34s %10.2f GiB\n", "peak device memory", r.peak_bytes / gib);
    s += line;
    return s;
}

std::string bench_json(const BenchReport& r) {
    nlohmann::ordered_json j = {{"model", r.model}, {"variant", r.variant}, {"device", r.device}, {"dtype", r.dtype},
                                {"load_s", r.load_s}, {"weights_bytes", r.weights_bytes}};
    j["ttft"] = nlohmann::ordered_json::array();
    for (const auto& t : r.ttft) j["ttft"].push_back({{"prompt", t.prompt}, {"seconds", t.seconds}});
    j["decode"] = nlohmann::ordered_json::array();
    for (const auto& d : r.decode) {
        j["decode"].push_back({{"batch", d.batch}, {"tokens_per_s", d.tokens_per_s}, {"step_ms", d.step_ms},
                               {"kv_bytes", d.kv_bytes}, {"peak_bytes", d.peak_bytes}, {"cuda_graph", d.cuda_graph}});
    }
    j["peak_bytes"] = r.peak_bytes;
    if (!r.note.empty()) j["note"] = r.note;
    return j.dump();
}

}  // namespace tb
