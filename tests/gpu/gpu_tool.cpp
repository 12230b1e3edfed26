// tunebench_gpu_tool — the engine side of the GPU checks (tests/gpu/compare.py drives it).
//   logits MODEL_DIR IDS_FILE OUT.safetensors DTYPE DEVICE
//       full-sequence logits (fp32 copy) for the ids in IDS_FILE (one line, space-separated)
//   bench MODEL_DIR DTYPE DEVICE PROMPT_LEN NEW_TOKENS
//       batch-1 greedy decode: prefill PROMPT_LEN fixed ids, then NEW_TOKENS steps, each
//       step as the Generator does it (last-position logits copied to the host, argmax there).
//       Prints one JSON line with load, prefill and decode figures.
#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#if TORCH_VERSION_MAJOR >= 2
#include <ATen/cuda/CUDAContext.h>
#endif

#include "core/error.h"
#include "io/tensor_io.h"
#include "model/decoder.h"

using namespace tb;
using Clock = std::chrono::steady_clock;

namespace {
void sync(const at::Device& d) {
#if TORCH_VERSION_MAJOR >= 2
    if (d.is_cuda()) at::cuda::device_synchronize();
#endif
}
double seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

int logits(int argc, char** argv) {
    if (argc < 7) throw Error("usage: logits MODEL_DIR IDS_FILE OUT DTYPE DEVICE");
    auto model = Model::load(argv[2], {.dtype = argv[5], .device = argv[6]});
    std::ifstream in(argv[3]);
    std::vector<int64_t> ids;
    for (int64_t v; in >> v;) ids.push_back(v);
    c10::InferenceMode guard;
    auto out = model->forward(at::tensor(ids).unsqueeze(0), nullptr).to(at::kCPU, at::kFloat);
    io::save_safetensors(argv[4], {{"logits", out}});
    return 0;
}

int bench(int argc, char** argv) {
    if (argc < 7) throw Error("usage: bench MODEL_DIR DTYPE DEVICE PROMPT_LEN NEW_TOKENS");
    auto t0 = Clock::now();
    auto model = Model::load(argv[2], {.dtype = argv[3], .device = argv[4]});
    sync(model->device());
    const double load_s = seconds(t0);
    const int64_t prompt_len = std::stoll(argv[5]), new_tokens = std::stoll(argv[6]);
    const int64_t V = model->config().vocab_size;
    std::vector<int64_t> prompt(prompt_len);
    for (int64_t i = 0; i < prompt_len; ++i) prompt[i] = (i * 7919 + 13) % (V - 10) + 5;
    c10::InferenceMode guard;
    auto run = [&](int64_t steps, double* prefill_s, double* decode_s) {
        auto cache = model->new_cache(prompt_len + steps + 1);
        auto t = Clock::now();
        auto lg = model->forward(at::tensor(prompt).unsqueeze(0), &cache, {.last_only = true});
        auto row = lg.select(1, 0).select(0, 0).to(at::kCPU, at::kFloat);
        *prefill_s = seconds(t);
        t = Clock::now();
        for (int64_t s = 0; s < steps; ++s) {
            int64_t next = row.argmax().item<int64_t>();
            lg = model->forward(at::tensor(std::vector<int64_t>{next}).unsqueeze(0), &cache, {.last_only = true});
            row = lg.select(1, 0).select(0, 0).to(at::kCPU, at::kFloat);
        }
        *decode_s = seconds(t);
    };
    double p, d;
    run(16, &p, &d);  // warm-up (kernel selection, allocator)
    run(new_tokens, &p, &d);
    std::printf("{\"load_s\": %.2f, \"prefill_s\": %.4f, \"decode_s\": %.3f, \"new_tokens\": %lld, \"tokens_per_s\": %.2f}\n",
                load_s, p, d, (long long)new_tokens, new_tokens / d);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "logits") return logits(argc, argv);
        if (cmd == "bench") return bench(argc, argv);
        std::cerr << "usage: tunebench_gpu_tool logits|bench ...\n";
        return 2;
    } catch (const Error& e) {
        std::cerr << "error: " << one_line(e) << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
