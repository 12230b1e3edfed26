// tunebench_gpu_tool — the engine side of the GPU checks (tests/gpu/compare.py drives it).
//   train-bench CONFIG_DIR DTYPE DEVICE BATCH SEQ STEPS RANK TARGET QBITS CHECKPOINTING(0|1|mlp) [chunked|logits]
//               [none|neat|neat-mask]
//       LoRA training steps on random weights of CONFIG_DIR/config.json (forward, backward,
//       clip, AdamW) on one batch of random ids, with the trainer's chunked loss (or full fp32
//       logits); prints tokens/s, the peak allocated memory, the first and last loss and the last
//       gradient norm (the benchmark's model must learn) as JSON. With TB_PROFILE_STEP=1 one more step
//       runs between cudaProfilerStart/Stop (for `ncu --profile-from-start off`).
//   kernels
//       every CUDA kernel of engine/kernels against its ATen reference (values) and both timed,
//       and neat packing's variable-length flash attention against the masked reference;
//       one JSON line per case, exit 1 when one is out of tolerance.
//   load-check MODEL_DIR [REPEATS] [DTYPE]
//       the model loaded onto the GPU through the file mapping and read straight to the GPU
//       (Model::load's two paths), alternately: bit-equal, and each timed (JSON lines).
//   profile-step MODEL_DIR BATCH
//       BATCH rows of 256 prompt tokens in a bf16 DecodeContext on CUDA, a few steps (the graph is
//       captured), then one replayed step between cudaProfilerStart/Stop: run it under
//       `ncu --profile-from-start off --graph-profiling node` to see each kernel of the step.
//   l2-probe
//       each decode linear shape's bf16 GEMM and NF4 GEMV with its weight evicted from L2 and
//       already in L2: whether the product is bandwidth- or latency-bound (JSON lines).
#include <ATen/Context.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <limits>

#include <ATen/cuda/CUDAContext.h>
#include <cuda_profiler_api.h>
#include <c10/cuda/CUDACachingAllocator.h>

#include "adapters/lora_adapter.h"
#include "core/device_memory.h"
#include "core/error.h"
#include "io/tensor_io.h"
#include "kernels/cuda_graph.h"
#include "kernels/decode_attention.h"
#include "kernels/dequantize.h"
#include "kernels/quantized_gemv.h"
#include "kernels/greedy_step.h"
#include "kernels/linear_cross_entropy.h"
#include "kernels/rms_norm.h"
#include "kernels/swiglu.h"
#include "kernels/rope_cache.h"
#include "kernels/rope_train.h"
#include "model/attention.h"
#include "model/rope.h"
#include "model/decoder.h"
#include "model/quantization.h"
#include "train/adamw.h"
#ifdef TB_GPU_TOOL_HAS_ENGINE
#include "infer/decode_context.h"
#include "train/memory_estimate.h"
#endif

using namespace tb;
using Clock = std::chrono::steady_clock;

namespace {
void sync(const at::Device& d) {
    if (d.is_cuda()) at::cuda::device_synchronize();
}
double seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

// Mean seconds per call of f over `reps` calls after a warm-up, on the current stream.
template <typename F>
double time_per_call(F&& f, int reps = 50) {
    f();
    at::cuda::device_synchronize();
    auto t = Clock::now();
    for (int i = 0; i < reps; ++i) f();
    at::cuda::device_synchronize();
    return seconds(t) / reps;
}

// Mean seconds per call of f with `reps` calls captured in one CUDA graph, as a decode step runs
// them: no host launch cost, which hides kernels shorter than ~10 µs when each call is launched.
template <typename F>
double graph_time_per_call(F&& f, int reps = 20) {
    kernels::CudaGraph graph(at::cuda::current_device());
    graph.run([&] { f(); });  // warm-up: lazy initialisation stays out of the capture
    at::cuda::device_synchronize();
    std::string why;
    if (!graph.capture([&] { for (int i = 0; i < reps; ++i) f(); }, &why)) throw Error("CUDA graph capture failed: " + why);
    graph.replay();
    at::cuda::device_synchronize();
    constexpr int kReplays = 5;
    auto t = Clock::now();
    for (int i = 0; i < kReplays; ++i) graph.replay();
    at::cuda::device_synchronize();
    return seconds(t) / (kReplays * reps);
}

// NF4 (with and without double quantization) and int8 dequantization against the ATen reference:
// bit-equal in fp32/fp16/bf16, on ChatGLM2-6B's query_key_value and MLP shapes and an odd one.
bool dequantize_check() {
    bool all_ok = true;
    struct Shape { int64_t out, in; };
    for (const Shape& sh : {Shape{4608, 4096}, Shape{27392, 4096}, Shape{37, 23}}) {
        for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
            auto w = (at::randn({sh.out, sh.in}, at::TensorOptions().device(at::kCUDA)) * 0.02).to(dtype);
            for (int kind = 0; kind < 3; ++kind) {  // NF4, NF4 + double quantization, int8
                const QuantizedWeight q = kind == 2 ? quantize_int8(w) : quantize_nf4(w, kind == 1);
                auto ref = kernels::dequantize_reference(q), got = kernels::dequantize(q);
                const bool same = ref.scalar_type() == got.scalar_type() && at::equal(ref, got);
                const double t_ref = time_per_call([&] { kernels::dequantize_reference(q); }, 10);
                const double t_ker = time_per_call([&] { kernels::dequantize(q); }, 10);
                all_ok &= same;
                const char* name = kind == 0 ? "dequantize nf4" : kind == 1 ? "dequantize nf4+dq" : "dequantize int8";
                std::printf("{\"kernel\": \"%s\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"round_once\": false, "
                            "\"max_abs_diff\": %.3g, \"tolerance\": 0, \"kernel_us\": %.2f, \"aten_us\": %.2f, \"speedup\": %.2f, \"ok\": %s}\n",
                            name, io::dtype_name(dtype).c_str(), (long long)sh.out, (long long)sh.in,
                            (ref.to(at::kFloat) - got.to(at::kFloat)).abs().max().item<double>(), t_ker * 1e6, t_ref * 1e6,
                            t_ref / t_ker, same ? "true" : "false");
            }
        }
    }
    return all_ok;
}

// The quantized matrix-vector kernels (decode rows ≤ 16) against the fp32 reference on the same
// codes (x in the model dtype, weights dequantized in fp32, fp32 GEMM): only the output's rounding
// and the summation order differ. Timed in CUDA graphs against the path without them (dequantize
// kernel, then the GEMM), with the weight's bytes per second; ChatGLM2-6B's four linear shapes,
// a small one, one whose rows end mid-tile (100) and one whose rows end mid-block (96 values).
bool quantized_gemv_check() {
    bool all_ok = true;
    struct Shape { int64_t out, in; };
    for (const Shape& sh : {Shape{4608, 4096}, Shape{4096, 4096}, Shape{27392, 4096}, Shape{4096, 13696}, Shape{96, 64},
                            Shape{100, 128}, Shape{40, 96}}) {
        for (auto dtype : {at::kBFloat16, at::kHalf, at::kFloat}) {
            auto w = (at::randn({sh.out, sh.in}, at::TensorOptions().device(at::kCUDA)) * 0.02).to(dtype);
            for (int kind = 0; kind < 3; ++kind) {  // NF4, NF4 + double quantization, int8
                const QuantizedWeight q = kind == 2 ? quantize_int8(w) : quantize_nf4(w, kind == 1);
                QuantizedWeight q32 = q;
                q32.compute_dtype = at::kFloat;
                for (int64_t m : {1, 2, 4, 8, 16}) {
                    auto x = at::randn({m, 1, sh.in}, at::TensorOptions().device(at::kCUDA)).to(dtype);
                    const bool applies = kernels::quantized_gemv_applies(x, q);
                    auto got = kernels::quantized_gemv(x, q);
                    auto ref = kernels::quantized_gemv_reference(x.to(at::kFloat), q32);
                    const double scale = ref.abs().max().item<double>();
                    const double diff = (got.to(at::kFloat) - ref).abs().max().item<double>();
                    const double tol = (dtype == at::kFloat ? 2e-5 : dtype == at::kHalf ? 2e-3 : 8e-3) * scale;
                    const double t_ker = graph_time_per_call([&] { kernels::quantized_gemv(x, q); });
                    const double t_ref = graph_time_per_call([&] { at::linear(x, q.dequantize()); });
                    const bool nf4_mma = kind != 2 && dtype != at::kFloat && sh.in % 64 == 0;  // up to 16 rows
                    // the epilogue's residual add (decode's o and down projections): residual + x·Wᵀ
                    auto residual = at::randn(ref.sizes(), x.options());
                    auto summed = residual.clone();
                    kernels::quantized_gemv_accumulate(summed, x, q);
                    const double diff_acc = (summed.to(at::kFloat) - (residual.to(at::kFloat) + ref)).abs().max().item<double>();
                    // and the bias in the epilogue (ChatGLM's and Qwen2's query_key_value)
                    auto bias = at::randn({sh.out}, x.options());
                    const double diff_bias =
                        (kernels::quantized_gemv(x, q, bias).to(at::kFloat) - kernels::quantized_gemv_reference(x.to(at::kFloat), q32, bias.to(at::kFloat)))
                            .abs().max().item<double>();
                    // beyond the product's tolerance, the sum's one rounding to the model dtype (half an ulp)
                    const double half_ulp = dtype == at::kFloat ? 0x1p-24 : dtype == at::kHalf ? 0x1p-11 : 0x1p-8;
                    const double tol_sum = tol + half_ulp * (scale + std::max(residual.abs().max().item<double>(), bias.abs().max().item<double>()));
                    const bool ok = (applies || (kind != 2 && m > 4 && !nf4_mma)) && diff <= tol && diff_acc <= tol_sum &&
                                    diff_bias <= tol_sum && got.sizes() == ref.sizes();
                    if (diff_acc > tol_sum || diff_bias > tol_sum)
                        std::printf("epilogue: accumulate max diff %.3g, bias max diff %.3g (tolerance %.3g)\n", diff_acc, diff_bias, tol_sum);
                    all_ok &= ok;
                    const char* name = kind == 0 ? "gemv nf4" : kind == 1 ? "gemv nf4+dq" : "gemv int8";
                    std::printf("{\"kernel\": \"%s\", \"dtype\": \"%s\", \"rows\": %lld, \"out\": %lld, \"in\": %lld, "
                                "\"max_abs_diff\": %.3g, \"tolerance\": %.3g, \"kernel_us\": %.2f, \"aten_us\": %.2f, "
                                "\"speedup\": %.2f, \"weight_GBps\": %.0f, \"ok\": %s}\n",
                                name, io::dtype_name(dtype).c_str(), (long long)m, (long long)sh.out, (long long)sh.in, diff, tol,
                                t_ker * 1e6, t_ref * 1e6, t_ref / t_ker, q.bytes() / t_ker / 1e9, ok ? "true" : "false");
                }
            }
        }
    }
    return all_ok;
}

// The decode step's kernels against their ATen references: RoPE + cache write (exact: the kernel
// rounds like the reference's ops) and decode attention (fp32 scores vs the reference's matmul in
// the model dtype: within a few ulps of the output), ChatGLM2 and LLaMA-3 head layouts.
bool decode_kernels_check() {
    bool all_ok = true;
    struct Shape { const char* name; Arch arch; int64_t heads, kv, hd; };
    // group sizes 16 (one tensor-core tile), 4, 1, 7 (a padded tile), 32 (two tiles); head_dim 128 and 64
    for (const Shape& sh : {Shape{"chatglm2", Arch::ChatGLM, 32, 2, 128}, Shape{"llama3", Arch::Llama, 32, 8, 128},
                            Shape{"llama2", Arch::Llama, 32, 32, 128}, Shape{"qwen2-7b", Arch::Llama, 28, 4, 128},
                            Shape{"rep32", Arch::Llama, 64, 2, 128}, Shape{"hd64", Arch::Llama, 16, 2, 64}}) {
        ModelConfig c;
        c.model_type = sh.arch == Arch::ChatGLM ? "chatglm" : "llama";
        c.arch = sh.arch;
        c.hidden_size = sh.heads * sh.hd;
        c.num_hidden_layers = 1;
        c.num_attention_heads = sh.heads;
        c.num_key_value_heads = sh.kv;
        c.head_dim = sh.hd;
        c.intermediate_size = 64;
        c.vocab_size = 64;
        c.glm_rope_in_model_dtype = sh.arch == Arch::ChatGLM;
        c.validate("gpu-tool");
        for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
            for (int64_t B : {1, 8, 64}) {
                const int64_t cap = B == 1 ? 4096 : 512;  // a long chat, and batches
                auto opt = at::TensorOptions().dtype(dtype).device(at::kCUDA);
                Rope rope(c, dtype, at::kCUDA);
                auto positions = at::randint(0, cap - 1, {B}, opt.dtype(at::kLong));
                auto [cos, sin] = rope.tables(positions.unsqueeze(1));
                auto qkv = at::randn({B, 1, (sh.heads + 2 * sh.kv) * sh.hd}, opt);
                auto q = qkv.narrow(-1, 0, sh.heads * sh.hd);
                auto k = qkv.narrow(-1, sh.heads * sh.hd, sh.kv * sh.hd);
                auto v = qkv.narrow(-1, (sh.heads + sh.kv) * sh.hd, sh.kv * sh.hd);
                auto K0 = at::randn({B, sh.kv, cap, sh.hd}, opt), V0 = at::randn({B, sh.kv, cap, sh.hd}, opt);
                auto K1 = K0.clone(), V1 = V0.clone(), K2 = K0.clone(), V2 = V0.clone();
                auto ref = kernels::rope_and_cache_reference(rope, q, k, v, cos, sin, K1, V1, positions, sh.heads);
                auto got = kernels::rope_and_cache(rope, q, k, v, cos, sin, K2, V2, positions, sh.heads);
                const double rope_diff = std::max({(ref.to(at::kFloat) - got.to(at::kFloat)).abs().max().item<double>(),
                                                   (K1.to(at::kFloat) - K2.to(at::kFloat)).abs().max().item<double>(),
                                                   (V1.to(at::kFloat) - V2.to(at::kFloat)).abs().max().item<double>()});
                const double t_rope_ref = time_per_call([&] { kernels::rope_and_cache_reference(rope, q, k, v, cos, sin, K1, V1, positions, sh.heads); });
                const double t_rope = time_per_call([&] { kernels::rope_and_cache(rope, q, k, v, cos, sin, K2, V2, positions, sh.heads); });
                const bool rope_ok = rope_diff <= (dtype == at::kFloat ? 1e-6 : 0.0);
                all_ok &= rope_ok;
                std::printf("{\"kernel\": \"rope_and_cache %s\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"round_once\": false, "
                            "\"max_abs_diff\": %.3g, \"tolerance\": 0, \"kernel_us\": %.2f, \"aten_us\": %.2f, \"speedup\": %.2f, \"ok\": %s}\n",
                            sh.name, io::dtype_name(dtype).c_str(), (long long)B, (long long)cap, rope_diff, t_rope * 1e6,
                            t_rope_ref * 1e6, t_rope_ref / t_rope, rope_ok ? "true" : "false");

                auto lengths = positions + 1;
                auto qa = at::randn({B, sh.heads, 1, sh.hd}, opt);
                auto aref = kernels::decode_attention_reference(qa, K1, V1, lengths);
                auto agot = kernels::decode_attention(qa, K1, V1, lengths, cap);
                const double diff = (aref.to(at::kFloat) - agot.to(at::kFloat)).abs().max().item<double>();
                const double tol = dtype == at::kFloat ? 1e-4 : (dtype == at::kBFloat16 ? 3e-2 : 4e-3);
                const double t_ref = time_per_call([&] { kernels::decode_attention_reference(qa, K1, V1, lengths); });
                const double t_ker = time_per_call([&] { kernels::decode_attention(qa, K1, V1, lengths, cap); });
                const bool ok = diff <= tol;
                all_ok &= ok;
                std::printf("{\"kernel\": \"decode_attention %s\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"round_once\": false, "
                            "\"max_abs_diff\": %.3g, \"tolerance\": %.3g, \"kernel_us\": %.2f, \"aten_us\": %.2f, \"speedup\": %.2f, \"ok\": %s}\n",
                            sh.name, io::dtype_name(dtype).c_str(), (long long)B, (long long)cap, diff, tol, t_ker * 1e6,
                            t_ref * 1e6, t_ref / t_ker, ok ? "true" : "false");

                // RoPE + cache write + attention in one launch (tensor-core path) against the two
                // references: the cache exactly as rope_and_cache_reference writes it, the output
                // within the attention tolerance; twice with the same counters (they must come back
                // zero: the second call equal to the first, bit for bit).
                auto fref = kernels::decode_attention_reference(ref, K1, V1, lengths);
                auto K3 = K0.clone(), V3 = V0.clone();
                auto counters = at::zeros({B * sh.heads}, opt.dtype(at::kInt));
                auto fgot = kernels::rope_cache_attention(rope, q, k, v, cos, sin, K3, V3, positions, lengths, sh.heads,
                                                          cap, counters);
                auto fagain = kernels::rope_cache_attention(rope, q, k, v, cos, sin, K3, V3, positions, lengths,
                                                            sh.heads, cap, counters);
                const double fdiff = (fref.to(at::kFloat) - fgot.to(at::kFloat)).abs().max().item<double>();
                const double cache_diff = std::max((K1.to(at::kFloat) - K3.to(at::kFloat)).abs().max().item<double>(),
                                                   (V1.to(at::kFloat) - V3.to(at::kFloat)).abs().max().item<double>());
                const bool repeat_equal = at::equal(fgot, fagain) && counters.eq(0).all().item<bool>();
                const double t_fused = time_per_call([&] {
                    kernels::rope_cache_attention(rope, q, k, v, cos, sin, K3, V3, positions, lengths, sh.heads, cap, counters);
                });
                const bool fok = fdiff <= tol && cache_diff <= (dtype == at::kFloat ? 1e-6 : 0.0) && repeat_equal;
                all_ok &= fok;
                std::printf("{\"kernel\": \"rope_cache_attention %s\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"round_once\": false, "
                            "\"max_abs_diff\": %.3g, \"cache_max_abs_diff\": %.3g, \"repeat_equal\": %s, \"tolerance\": %.3g, "
                            "\"kernel_us\": %.2f, \"aten_us\": %.2f, \"speedup\": %.2f, \"ok\": %s}\n",
                            sh.name, io::dtype_name(dtype).c_str(), (long long)B, (long long)cap, fdiff, cache_diff,
                            repeat_equal ? "true" : "false", tol, t_fused * 1e6, (t_rope_ref + t_ref) * 1e6,
                            (t_rope_ref + t_ref) / t_fused, fok ? "true" : "false");
            }
        }
    }
    return all_ok;
}

// The greedy step's tail (argmax with first-index ties, stop flag, NaN/Inf flag, positions)
// against its ATen reference: every output exactly equal, ChatGLM2's vocabulary, three dtypes.
bool greedy_step_check() {
    bool all_ok = true;
    for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
        for (int64_t B : {1, 8, 64}) {
            const int64_t V = 65024;
            auto opt = at::TensorOptions().dtype(dtype).device(at::kCUDA);
            auto longs = at::TensorOptions().dtype(at::kLong).device(at::kCUDA);
            auto logits = (at::randn({B, V + 3}, opt) * 4).narrow(1, 0, V);  // a row stride past V
            logits.select(0, 0).fill_(1.0);                                 // all equal: the first wins
            if (B > 1) {
                logits[1][7] = 50.0;
                logits[1][9000] = 50.0;  // a tie: 7
            }
            if (B > 2) logits[2][123] = std::numeric_limits<double>::quiet_NaN();
            auto stop_ids = at::tensor({int64_t{0}, int64_t{7}}, longs);
            auto active = at::randint(0, 2, {B}, longs);
            auto positions = at::randint(0, 100, {B}, longs);
            auto ids1 = at::zeros({B}, longs), ids2 = ids1.clone();
            auto pos1 = positions.clone(), pos2 = positions.clone();
            auto out1 = at::zeros({B, 3}, longs), out2 = out1.clone();
            kernels::greedy_step_reference(logits, stop_ids, active, ids1, pos1, out1);
            kernels::greedy_step(logits, stop_ids, active, ids2, pos2, out2);
            // a NaN row's token is not compared (the flag stops decoding); everything else must match
            auto finite_rows = out1.select(1, 2).eq(0);
            const bool ok = at::equal(pos1, pos2) && at::equal(out1.select(1, 2), out2.select(1, 2)) &&
                            at::equal(ids1.masked_select(finite_rows), ids2.masked_select(finite_rows)) &&
                            at::equal(out1.masked_select(finite_rows.unsqueeze(1)), out2.masked_select(finite_rows.unsqueeze(1)));
            const double t_ref = time_per_call([&] { kernels::greedy_step_reference(logits, stop_ids, active, ids1, pos1, out1); });
            const double t_ker = time_per_call([&] { kernels::greedy_step(logits, stop_ids, active, ids2, pos2, out2); });
            all_ok &= ok;
            std::printf("{\"kernel\": \"greedy_step\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"round_once\": false, "
                        "\"max_abs_diff\": 0, \"tolerance\": 0, \"kernel_us\": %.2f, \"aten_us\": %.2f, \"speedup\": %.2f, \"ok\": %s}\n",
                        io::dtype_name(dtype).c_str(), (long long)B, (long long)V, t_ker * 1e6, t_ref * 1e6, t_ref / t_ker,
                        ok ? "true" : "false");
        }
    }
    return all_ok;
}

// The training kernels (forward + backward as one autograd node) against autograd through their
// ATen references and against the written-out formulas they follow: RMSNorm (both rounding orders,
// with the weight's gradient), SwiGLU (two tensors, and ChatGLM's packed gate_up), and fused
// attention reading grouped key/value heads against the expanded heads; values and gradients,
// three dtypes, training shapes; each timed forward + backward against the reference.
bool training_kernels_check() {
    c10::InferenceMode off(false);
    c10::AutoGradMode grad(true);
    bool all_ok = true;
    auto rel = [](const at::Tensor& got, const at::Tensor& want) {
        return (got.to(at::kFloat) - want.to(at::kFloat)).abs().max().item<double>() /
               std::max(1e-12, want.to(at::kFloat).abs().max().item<double>());
    };
    auto report = [&](const std::string& name, at::ScalarType dtype, int64_t rows, int64_t cols, double diff, double tol,
                      double t_ker, double t_ref) {
        const bool ok = diff <= tol;
        all_ok &= ok;
        std::printf("{\"kernel\": \"%s\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"max_rel_diff\": %.3g, "
                    "\"tolerance\": %.3g, \"kernel_us\": %.2f, \"aten_us\": %.2f, \"speedup\": %.2f, \"ok\": %s}\n",
                    name.c_str(), io::dtype_name(dtype).c_str(), (long long)rows, (long long)cols, diff, tol, t_ker * 1e6,
                    t_ref * 1e6, t_ref / t_ker, ok ? "true" : "false");
        std::fflush(stdout);
    };
    // one rounding of the result apart (fp32: summation order)
    auto tol_for = [](at::ScalarType d) { return d == at::kFloat ? 2e-5 : (d == at::kBFloat16 ? 1.6e-2 : 2e-3); };
    for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
        auto opt = at::TensorOptions().dtype(dtype).device(at::kCUDA);
        for (int64_t cols : {4096, 2048}) {
            for (bool round_once : {false, true}) {
                const int64_t rows = 4096;
                auto x0 = at::randn({4, rows / 4, cols}, opt) * 2, w0 = (1.0 + 0.1 * at::randn({cols}, opt)).to(dtype);
                auto gy = at::randn({4, rows / 4, cols}, opt);
                auto run = [&](bool reference) {
                    auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
                    auto y = reference ? kernels::rms_norm_reference(x, w, 1e-5, round_once)
                                       : kernels::rms_norm(x, w, 1e-5, round_once);
                    y.backward(gy.to(y.scalar_type()));
                    return std::array<at::Tensor, 3>{y.detach(), x.grad(), w.grad()};
                };
                auto got = run(false), ref = run(true);
                auto [fdx, fdw] = kernels::rms_norm_backward_reference(x0, w0, gy, 1e-5, round_once, true);
                const double diff = std::max({rel(got[0], ref[0]), rel(got[1], ref[1]), rel(got[2], ref[2]),
                                              rel(got[1], fdx), rel(got[2], fdw)});
                const double t_ker = time_per_call([&] { run(false); }, 10), t_ref = time_per_call([&] { run(true); }, 10);
                report(std::string("rms_norm fwd+bwd") + (round_once ? " round_once" : ""), dtype, rows, cols, diff,
                       tol_for(dtype), t_ker, t_ref);
            }
        }
        for (bool packed : {true, false}) {
            const int64_t rows = 4096, I = 13696;
            auto gu0 = at::randn({4, rows / 4, 2 * I}, opt) * 3;
            auto gy = at::randn({4, rows / 4, I}, opt);
            auto run = [&](bool reference) {
                auto gu = gu0.clone().requires_grad_(true);
                at::Tensor y;
                if (packed) {
                    y = reference ? kernels::swiglu_reference(gu.narrow(-1, 0, I), gu.narrow(-1, I, I)) : kernels::swiglu_packed(gu);
                } else {
                    auto g = gu.narrow(-1, 0, I).contiguous(), u = gu.narrow(-1, I, I).contiguous();
                    y = reference ? kernels::swiglu_reference(g, u) : kernels::swiglu(g, u);
                }
                y.backward(gy);
                return std::array<at::Tensor, 2>{y.detach(), gu.grad()};
            };
            auto got = run(false), ref = run(true);
            auto [fdg, fdu] = kernels::swiglu_backward_reference(gu0.narrow(-1, 0, I), gu0.narrow(-1, I, I), gy);
            // ATen's own ops in the kernel: equal up to expf's last bit (one rounding of the result)
            const double diff = std::max({rel(got[0], ref[0]), rel(got[1], ref[1]), rel(got[1], at::cat({fdg, fdu}, -1))});
            const double t_ker = time_per_call([&] { run(false); }, 10), t_ref = time_per_call([&] { run(true); }, 10);
            report(packed ? "swiglu_packed fwd+bwd" : "swiglu fwd+bwd", dtype, rows, I, diff,
                   dtype == at::kFloat ? 1e-6 : tol_for(dtype), t_ker, t_ref);
        }
        for (bool chatglm : {true, false}) {  // RoPE: ChatGLM's qkv node and LLaMA's per-tensor node
            const int64_t B = 4, T = 1024, H = 32, G = 2, D = 128;
            ModelConfig c;
            c.model_type = chatglm ? "chatglm" : "llama";
            c.arch = chatglm ? Arch::ChatGLM : Arch::Llama;
            c.hidden_size = H * D;
            c.num_hidden_layers = 1;
            c.num_attention_heads = H;
            c.num_key_value_heads = G;
            c.head_dim = D;
            c.intermediate_size = 64;
            c.vocab_size = 64;
            c.glm_rope_in_model_dtype = chatglm;
            c.validate("gpu-tool");
            Rope rope(c, dtype, at::kCUDA);
            auto positions = at::arange(T, opt.dtype(at::kLong)).unsqueeze(0).expand({B, T}) + 7;
            auto [cos, sin] = rope.tables(positions);
            auto qkv0 = at::randn({B, T, (H + 2 * G) * D}, opt);
            auto gq = at::randn({B, T, H, D}, opt), gk = at::randn({B, T, G, D}, opt), gv = at::randn({B, T, G, D}, opt);
            auto run = [&](bool reference) {
                auto qkv = qkv0.clone().requires_grad_(true);
                std::array<at::Tensor, 3> out;
                if (chatglm && !reference) {
                    out = kernels::rope_qkv(rope, qkv, cos, sin, H, G, D);
                } else {
                    auto q = qkv.narrow(-1, 0, H * D).reshape({B, T, H, D});
                    auto k = qkv.narrow(-1, H * D, G * D).reshape({B, T, G, D});
                    out = {reference ? rope.apply(q, cos, sin) : kernels::rope_train(rope, q, cos, sin),
                           reference ? rope.apply(k, cos, sin) : kernels::rope_train(rope, k, cos, sin),
                           qkv.narrow(-1, (H + G) * D, G * D).reshape({B, T, G, D})};
                }
                // the attention's layout: the gradients arrive as transposed views
                auto loss = (out[0].transpose(1, 2) * gq.transpose(1, 2)).sum() + (out[1] * gk).sum() + (out[2] * gv).sum();
                loss.backward();
                return std::array<at::Tensor, 3>{out[0].detach(), out[1].detach(), qkv.grad()};
            };
            auto got = run(false), ref = run(true);
            const double diff = std::max({rel(got[0], ref[0]), rel(got[1], ref[1]), rel(got[2], ref[2])});
            const double t_ker = time_per_call([&] { run(false); }, 10), t_ref = time_per_call([&] { run(true); }, 10);
            // ATen's roundings: bit-equal in half types; fp32 up to a contracted multiply-add
            report(chatglm ? "rope_qkv fwd+bwd (chatglm)" : "rope fwd+bwd (llama)", dtype, B * T, (H + 2 * G) * D, diff,
                   dtype == at::kFloat ? 1e-6 : 0.0, t_ker, t_ref);
        }
        for (bool weight_grad : {false, true}) {  // the chunked lm_head + cross-entropy: ChatGLM's vocabulary,
            // ignored rows; a frozen lm_head (LoRA: the hidden gradient made in the forward) and a trained one
            const int64_t N = 4096, H = 4096, V = 65024;
            auto hidden0 = at::randn({N, H}, opt), weight0 = at::randn({V, H}, opt) * 0.02;
            auto labels = at::randint(0, V, {N}, opt.dtype(at::kLong));
            labels.narrow(0, 100, 300).fill_(-100);
            auto run = [&](bool reference) {
                auto hidden = hidden0.clone().requires_grad_(true), weight = weight0.clone().requires_grad_(weight_grad);
                auto loss = reference ? kernels::linear_cross_entropy_reference(hidden, weight, labels, -100)
                                      : kernels::linear_cross_entropy(hidden, weight, labels, -100);
                (loss * 0.37).backward();
                return std::array<at::Tensor, 3>{loss.detach(), hidden.grad(), weight_grad ? weight.grad() : hidden.grad()};
            };
            auto got = run(false), ref = run(true);
            const double diff = std::max({rel(got[0], ref[0]), rel(got[1], ref[1]), rel(got[2], ref[2])});
            const double t_ker = time_per_call([&] { run(false); }, 5), t_ref = time_per_call([&] { run(true); }, 5);
            // fp32: the weight's gradient sums 4096 rows chunk by chunk, and each row's softmax minus
            // one-hot cancels to zero over the vocabulary: a few 1e-5 of its largest entry apart
            report(weight_grad ? "linear_cross_entropy fwd+bwd (chunked, lm_head trained)"
                               : "linear_cross_entropy fwd+bwd (chunked, lm_head frozen)",
                   dtype, N, V, diff, dtype == at::kFloat ? 1e-4 : tol_for(dtype), t_ker, t_ref);
        }
        if (dtype != at::kFloat) {  // the flash kernels: half types
            const int64_t B = 4, T = 1024, H = 32, G = 2, D = 128;
            auto q0 = at::randn({B, H, T, D}, opt), k0 = at::randn({B, G, T, D}, opt), v0 = at::randn({B, G, T, D}, opt);
            auto gy = at::randn({B, H, T, D}, opt);
            auto run = [&](bool expanded) {
                auto q = q0.clone().requires_grad_(true), k = k0.clone().requires_grad_(true), v = v0.clone().requires_grad_(true);
                auto K = expanded ? k.repeat_interleave(H / G, 1) : k, V = expanded ? v.repeat_interleave(H / G, 1) : v;
                auto y = expanded ? at::scaled_dot_product_attention(q, K, V, {}, 0.0, true)
                                  : attention(q, K, V, {}, AttentionKernel::Fused);
                y.backward(gy);
                return std::array<at::Tensor, 4>{y.detach(), q.grad(), k.grad(), v.grad()};
            };
            auto got = run(false), ref = run(true);
            double diff = 0;
            for (int i = 0; i < 4; ++i) diff = std::max(diff, rel(got[i], ref[i]));
            const double t_ker = time_per_call([&] { run(false); }, 10), t_ref = time_per_call([&] { run(true); }, 10);
            report("attention gqa fwd+bwd (causal)", dtype, B * T, H * D, diff, dtype == at::kBFloat16 ? 2e-2 : 4e-3, t_ker, t_ref);
        }
    }
    return all_ok;
}

// Neat packing's segments for B rows of T tokens, each row the examples `lengths` (then padding),
// as collate builds them; without_varlen leaves out flash attention's form (the mask path).
Segments packed_segments(int64_t B, int64_t T, const std::vector<int64_t>& lengths, bool varlen) {
    auto ids = at::zeros({B, T}, at::kLong);
    std::vector<int32_t> starts;
    int64_t longest = 0;
    for (int64_t r = 0; r < B; ++r) {
        int64_t t = 0, s = 1;
        std::vector<int64_t> row = lengths;
        int64_t used = 0;
        for (auto n : row) used += n;
        if (used < T) row.push_back(T - used);  // the padding tail: segment 0, one sequence of its own
        for (size_t i = 0; i < row.size(); ++i) {
            const bool padding = i == lengths.size();
            ids[r].narrow(0, t, row[i]).fill_(padding ? 0 : s++);
            starts.push_back(static_cast<int32_t>(r * T + t));
            longest = std::max(longest, row[i]);
            t += row[i];
        }
    }
    starts.push_back(static_cast<int32_t>(B * T));
    Segments seg;
    seg.ids = ids.to(at::kCUDA);
    if (varlen) {
        seg.cu_seqlens = at::tensor(starts, at::kInt).to(at::kCUDA);
        seg.max_len = longest;
    }
    return seg;
}

// Neat packing's attention: flash attention's variable-length form against the block-diagonal
// mask through scaled_dot_product_attention (the reference), values and q/k/v gradients,
// ChatGLM2's heads (32 query, 2 key/value groups, head_dim 128), rows of several examples.
bool varlen_attention_check() {
    c10::InferenceMode off(false);
    c10::AutoGradMode grad(true);
    bool all_ok = true;
    const int64_t B = 2, T = 1024, nh = 32, nkv = 2, hd = 128;
    const std::vector<int64_t> lengths = {300, 500, 180};
    for (auto dtype : {at::kBFloat16, at::kHalf}) {
        auto opt = at::TensorOptions().dtype(dtype).device(at::kCUDA);
        auto q0 = at::randn({B, T, nh, hd}, opt).transpose(1, 2), k0 = at::randn({B, T, nkv, hd}, opt).transpose(1, 2);
        auto v0 = at::randn({B, T, nkv, hd}, opt).transpose(1, 2), gy = at::randn({B, nh, T, hd}, opt);
        auto run = [&](bool varlen) {
            auto q = q0.detach().requires_grad_(true), k = k0.detach().requires_grad_(true), v = v0.detach().requires_grad_(true);
            auto y = attention(q, k, v, {}, AttentionKernel::Fused, packed_segments(B, T, lengths, varlen));
            y.backward(gy);
            return std::array<at::Tensor, 4>{y.detach(), q.grad(), k.grad(), v.grad()};
        };
        auto got = run(true), ref = run(false);
        double diff = 0;
        for (int i = 0; i < 4; ++i) {
            const double scale = ref[i].to(at::kFloat).abs().max().item<double>();
            diff = std::max(diff, (got[i].to(at::kFloat) - ref[i].to(at::kFloat)).abs().max().item<double>() / scale);
        }
        // two kernels' summation orders in 16-bit: a few output ulps
        const double tol = dtype == at::kBFloat16 ? 3e-2 : 4e-3;
        const double t_ker = time_per_call([&] { run(true); }, 10), t_ref = time_per_call([&] { run(false); }, 10);
        const bool ok = diff <= tol;
        all_ok &= ok;
        std::printf("{\"kernel\": \"neat-packing attention fwd+bwd (flash varlen vs mask)\", \"dtype\": \"%s\", "
                    "\"rows\": %lld, \"cols\": %lld, \"max_rel_diff\": %.3g, \"tolerance\": %.3g, \"kernel_us\": %.2f, "
                    "\"aten_us\": %.2f, \"speedup\": %.2f, \"ok\": %s}\n",
                    io::dtype_name(dtype).c_str(), (long long)(B * T), (long long)(nh * hd), diff, tol, t_ker * 1e6,
                    t_ref * 1e6, t_ref / t_ker, ok ? "true" : "false");
        std::fflush(stdout);
    }
    return all_ok;
}

int kernels_check() {
    if (!kernels::built_with_cuda_kernels()) throw Error("this build has no CUDA kernels (nvcc was not found)");
    c10::InferenceMode guard;
    bool all_ok = true;
    // RMSNorm: decode (1 row), prefill / training shapes, ChatGLM2 hidden 4096 (a row in registers)
    // and 1000 (the general kernel); both rounding orders.
    for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
        for (int64_t rows : {1, 8, 4096}) {
            for (int64_t cols : {4096, 1000}) {
                for (bool round_once : {false, true}) {
                    auto opt = at::TensorOptions().dtype(dtype).device(at::kCUDA);
                    auto x = at::randn({rows, cols}, opt);
                    auto w = (1.0 + 0.1 * at::randn({cols}, opt)).to(dtype);
                    auto ref = kernels::rms_norm_reference(x, w, 1e-5, round_once);
                    auto got = kernels::rms_norm(x, w, 1e-5, round_once);
                    // fp32: reduction order only; half types: at most one ulp of the output after a
                    // different fp32 sum order (bf16 ulp 2^-7 relative).
                    const double diff = (ref.to(at::kFloat) - got.to(at::kFloat)).abs().max().item<double>();
                    const double scale = ref.to(at::kFloat).abs().max().item<double>();
                    const double tol = dtype == at::kFloat ? 1e-5 * scale : (dtype == at::kBFloat16 ? 8e-3 : 1e-3) * scale;
                    const double t_ref = time_per_call([&] { kernels::rms_norm_reference(x, w, 1e-5, round_once); });
                    const double t_ker = time_per_call([&] { kernels::rms_norm(x, w, 1e-5, round_once); });
                    const bool ok = diff <= tol;
                    all_ok &= ok;
                    std::printf("{\"kernel\": \"rms_norm\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"round_once\": %s, "
                                "\"max_abs_diff\": %.3g, \"tolerance\": %.3g, \"kernel_us\": %.2f, \"aten_us\": %.2f, "
                                "\"speedup\": %.2f, \"ok\": %s}\n",
                                io::dtype_name(dtype).c_str(), (long long)rows, (long long)cols, round_once ? "true" : "false",
                                diff, tol, t_ker * 1e6, t_ref * 1e6, t_ref / t_ker, ok ? "true" : "false");
                }
            }
        }
    }
    // SwiGLU: ChatGLM's halves of one gate_up output (strided views) and LLaMA's two tensors;
    // decode (1, 64 rows) and prefill, I = 13696 (vectorised) and 1000 + odd offsets (scalar).
    for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
        for (int64_t rows : {1, 64, 8192}) {
            for (int64_t I : {13696, 1001}) {
                auto opt = at::TensorOptions().dtype(dtype).device(at::kCUDA);
                auto gu = at::randn({rows, 2 * I}, opt) * 4;
                auto g = gu.narrow(-1, 0, I), u = gu.narrow(-1, I, I);
                auto ref = kernels::swiglu_reference(g, u);
                auto got = kernels::swiglu(g, u);
                auto g2 = g.contiguous(), u2 = u.contiguous();
                auto got2 = kernels::swiglu(g2, u2);
                // the kernel rounds as ATen's two ops do: equal up to expf's last bit (one ulp)
                const double scale = ref.to(at::kFloat).abs().max().item<double>();
                const double diff = std::max((ref.to(at::kFloat) - got.to(at::kFloat)).abs().max().item<double>(),
                                             (ref.to(at::kFloat) - got2.to(at::kFloat)).abs().max().item<double>());
                const double tol = (dtype == at::kFloat ? 1e-6 : (dtype == at::kBFloat16 ? 8e-3 : 1e-3)) * scale;
                const double t_ref = time_per_call([&] { kernels::swiglu_reference(g, u); });
                const double t_ker = time_per_call([&] { kernels::swiglu(g, u); });
                const bool ok = diff <= tol;
                all_ok &= ok;
                std::printf("{\"kernel\": \"swiglu\", \"dtype\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"round_once\": false, "
                            "\"max_abs_diff\": %.3g, \"tolerance\": %.3g, \"kernel_us\": %.2f, \"aten_us\": %.2f, "
                            "\"speedup\": %.2f, \"ok\": %s}\n",
                            io::dtype_name(dtype).c_str(), (long long)rows, (long long)I, diff, tol, t_ker * 1e6,
                            t_ref * 1e6, t_ref / t_ker, ok ? "true" : "false");
            }
        }
    }
    all_ok &= decode_kernels_check();
    all_ok &= greedy_step_check();
    all_ok &= dequantize_check();
    all_ok &= quantized_gemv_check();
    all_ok &= training_kernels_check();
    all_ok &= varlen_attention_check();
    return all_ok ? 0 : 1;
}

int train_bench(int argc, char** argv) {
    if (argc < 12)
        throw Error("usage: train-bench CONFIG_DIR DTYPE DEVICE BATCH SEQ STEPS RANK TARGET QBITS CHECKPOINTING [logits|chunked]");
    // the loss: Model::loss_sum's chunked lm_head + cross-entropy (what the trainer uses; default) or
    // full fp32 logits (what it did before), for an A/B
    const bool chunked = !(argc > 12 && std::string(argv[12]) == "logits");
    // rows of packed examples (512, 256, 128, 128 tokens) with neat packing: flash attention's
    // variable-length form (neat) or the block-diagonal mask (neat-mask)
    const std::string packing = argc > 13 ? argv[13] : "none";
    const auto config = ModelConfig::from_folder(argv[2]);
    const at::Device device(argv[4]);
    const auto dtype = io::parse_dtype_name(argv[3]);
    const int64_t B = std::stoll(argv[5]), S = std::stoll(argv[6]), steps = std::stoll(argv[7]);
    const int qbits = std::stoi(argv[10]);
    // 1: whole layers recomputed; mlp: only the MLPs (selective); 0: none
    const bool checkpointing = std::string(argv[11]) == "1" || std::string(argv[11]) == "mlp";
    const bool mlp_only = std::string(argv[11]) == "mlp";
    const bool expandable = device.is_cuda() && use_expandable_cuda_segments();  // as the trainer does
    auto t0 = Clock::now();
    auto model = Model::random(config, 1, dtype, device);
    if (qbits) quantize_model(*model, qbits, true);
    sync(device);
    // the dense weights quantization replaced stay cached: not this run's (the trainer quantizes
    // layer by layer as it loads)
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
    const double init_s = seconds(t0);
    LoraConfig lc;
    lc.r = std::stoll(argv[8]);
    lc.alpha = 2.0 * lc.r;
    lc.target_modules = {argv[9]};
    const int64_t trainable = attach_lora(*model, lc, 2);
    std::vector<std::pair<std::string, at::Tensor>> params;
    for (Linear* l : model->linears()) {
        if (!l->lora) continue;
        params.emplace_back(l->name + ".A", l->lora->A);
        params.emplace_back(l->name + ".B", l->lora->B);
    }
    AdamW opt(params, {});
    auto ids = at::randint(5, config.vocab_size - 5, {B, S}, at::TensorOptions().dtype(at::kLong)).to(device);
    ForwardOptions fo;
    fo.gradient_checkpointing = checkpointing;
    fo.checkpoint_mlp_only = mlp_only;
    if (packing == "neat" || packing == "neat-mask") {
        const std::vector<int64_t> lengths = {S / 2, S / 4, S / 8, S - S / 2 - S / 4 - S / 8};
        auto pos = at::empty({B, S}, at::kLong);
        for (int64_t r = 0, t = 0; r < B; ++r, t = 0)
            for (auto n : lengths) pos[r].narrow(0, t, n).copy_(at::arange(n, at::kLong)), t += n;
        fo.position_ids = pos.to(device);
        fo.segments = packed_segments(B, S, lengths, packing == "neat");
    }
    TrainingModeGuard training(true);
    // the loss and gradient norm stay on the device until the end (no host sync per step)
    at::Tensor first_loss, last_loss, last_grad_norm;
    auto step = [&] {
        at::Tensor loss;
        if (chunked) {
            loss = model->loss_sum(ids, ids, -100, fo) / static_cast<double>(B * (S - 1));
        } else {
            auto logits = model->forward(ids, nullptr, fo);
            const int64_t T = logits.size(1), V = logits.size(2);
            loss = at::cross_entropy_loss(logits.narrow(1, 0, T - 1).to(at::kFloat).reshape({-1, V}),
                                          ids.narrow(1, 1, T - 1).reshape({-1}));
        }
        loss.backward();
        last_grad_norm = opt.clip_grad_norm(1.0);
        opt.step(1e-4);
        opt.zero_grad();
        last_loss = loss.detach();
        if (!first_loss.defined()) first_loss = last_loss;
    };
    step();  // warm-up: kernel selection, allocator
    step();
    sync(device);
    reset_peak_device_memory(device.str());
    auto t = Clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    sync(device);
    const double dt = seconds(t);
    const auto mem = device_memory(device.str());
    if (const char* p = std::getenv("TB_PROFILE_STEP"); p && std::string(p) == "1" && device.is_cuda()) {
        cudaProfilerStart();
        step();
        sync(device);
        cudaProfilerStop();
    }
    double estimate_gib = -1;
#ifdef TB_GPU_TOOL_HAS_ENGINE
    {
        auto a = TrainingArgs::from_map({{"model_name_or_path", argv[2]}, {"dataset", "-"}, {"output_dir", "-"},
                                         {"bf16", dtype == at::kBFloat16 ? "true" : "false"}, {"device", argv[4]},
                                         {"per_device_train_batch_size", argv[5]}, {"cutoff_len", argv[6]},
                                         {"lora_rank", argv[8]}, {"lora_target", argv[9]}, {"quantization_bit", argv[10]},
                                         {"gradient_checkpointing", checkpointing ? "true" : "false"},
                                         {"gradient_checkpointing_scope", mlp_only ? "mlp" : "layer"}});
        estimate_gib = estimate_training_memory(a).total_bytes / 1073741824.0;
    }
#endif
    std::printf("{\"loss_path\": \"%s\", \"packing\": \"%s\", \"checkpointing\": \"%s\", \"expandable_segments\": %s, \"init_s\": %.1f, "
                "\"step_s\": %.4f, \"tokens_per_s\": %.1f, \"peak_allocated_gib\": %.3f, \"peak_reserved_gib\": %.3f, "
                "\"estimate_gib\": %.3f, \"trainable\": %lld, \"first_loss\": %.6f, \"loss\": %.6f, \"grad_norm\": %.6g}\n",
                chunked ? "chunked" : "logits", packing.c_str(), !checkpointing ? "none" : mlp_only ? "mlp" : "layer",
                expandable ? "true" : "false", init_s, dt / steps, B * S * steps / dt,
                mem.peak / 1073741824.0, mem.reserved_peak / 1073741824.0, estimate_gib, (long long)trainable, first_loss.item<double>(),
                last_loss.item<double>(), last_grad_norm.item<double>());
    return 0;
}
}  // namespace

#ifdef TB_GPU_TOOL_HAS_ENGINE
int profile_step(int argc, char** argv) {
    if (argc < 4) throw Error("usage: profile-step MODEL_DIR BATCH [QUANTIZATION_BIT]");
    const int bits = argc > 4 ? std::atoi(argv[4]) : 0;  // 4 (NF4, double quantization) or 8 (int8) as the model loads
    std::shared_ptr<const Model> model = Model::load(argv[2], {.dtype = "bfloat16", .device = "cuda", .quantization_bit = bits});
    const int64_t B = std::stoll(argv[3]), V = model->config().vocab_size;
    GenerationConfig greedy;
    greedy.do_sample = false;
    DecodeContext ctx(model, greedy, {}, {.slots = B, .capacity = 400});
    for (int64_t s = 0; s < B; ++s) {
        std::vector<int64_t> prompt(256);
        for (int64_t i = 0; i < 256; ++i) prompt[i] = ((i + 131 * s) * 7919 + 13) % (V - 10) + 5;
        ctx.start(s, prompt, 0, 1);
    }
    for (int i = 0; i < 4; ++i) ctx.step();
    at::cuda::device_synchronize();
    cudaProfilerStart();
    ctx.step();
    at::cuda::device_synchronize();
    cudaProfilerStop();
    std::printf("{\"graph\": %s}\n", ctx.graph_captured() ? "true" : "false");
    return 0;
}
#endif

// Whether the decode step's linear layers run faster when their weight is already in L2 (is a GEMM
// of one row bandwidth-bound, or latency-bound?): each shape's bf16 GEMM (at::linear, cuBLAS) and NF4
// GEMV (double quantization) for one row of x, timed in a CUDA graph after a 256 MB read that evicts
// L2, with and without reading the weight itself right before (a sum over it: it then sits in L2
// where it fits); the reads' own time is measured alone and subtracted. One JSON line per case.
int l2_probe(int, char**) {
    const auto opt = at::TensorOptions().device(at::kCUDA);
    const auto flush = at::ones({256LL << 20}, opt.dtype(at::kByte));
    struct Shape { const char* name; int64_t out, in; };
    for (const Shape& sh : {Shape{"qkv", 4608, 4096}, Shape{"o", 4096, 4096}, Shape{"o half", 2048, 4096},
                            Shape{"down", 4096, 13696}}) {
        const auto w = (at::randn({sh.out, sh.in}, opt) * 0.02).to(at::kBFloat16);
        const auto x = at::randn({1, sh.in}, opt).to(at::kBFloat16);
        const QuantizedWeight q = quantize_nf4(w, true);
        for (int nf4 = 0; nf4 < 2; ++nf4) {
            const std::vector<at::Tensor> stored = nf4 ? std::vector<at::Tensor>{q.packed, q.qabsmax, q.absmax2} : std::vector<at::Tensor>{w};
            auto touch = [&] {
                for (const auto& t : stored) (void)t.sum();
            };
            auto product = [&] {
                if (nf4) (void)kernels::quantized_gemv(x, q);
                else (void)at::linear(x, w);
            };
            const double cold = graph_time_per_call([&] { (void)flush.sum(); product(); }, 8) -
                                graph_time_per_call([&] { (void)flush.sum(); }, 8);
            const double warm = graph_time_per_call([&] { (void)flush.sum(); touch(); product(); }, 8) -
                                graph_time_per_call([&] { (void)flush.sum(); touch(); }, 8);
            double mb = 0;
            for (const auto& t : stored) mb += static_cast<double>(t.nbytes()) / 1e6;
            std::printf("{\"probe\": \"%s %s [%lld, %lld]\", \"weight_MB\": %.1f, \"after_eviction_us\": %.2f, "
                        "\"weight_in_L2_us\": %.2f, \"ratio\": %.2f}\n",
                        nf4 ? "nf4+dq" : "bf16", sh.name, (long long)sh.out, (long long)sh.in, mb, cold * 1e6, warm * 1e6,
                        cold / warm);
        }
    }
    return 0;
}

// One quantized GEMV (NF4 with double quantization, or int8) of shape [OUT, IN] for M rows of bf16
// x, bracketed by cudaProfilerStart/Stop for Nsight Compute (--profile-from-start off).
int gemv_profile(int argc, char** argv) {
    if (argc < 5) throw Error("usage: gemv-profile OUT IN M [nf4|int8]");
    const int64_t out = std::stoll(argv[2]), in = std::stoll(argv[3]), m = std::stoll(argv[4]);
    const bool int8 = argc > 5 && std::string(argv[5]) == "int8";
    auto w = (at::randn({out, in}, at::TensorOptions().device(at::kCUDA)) * 0.02).to(at::kBFloat16);
    const QuantizedWeight q = int8 ? quantize_int8(w) : quantize_nf4(w, true);
    auto x = at::randn({m, in}, at::TensorOptions().device(at::kCUDA)).to(at::kBFloat16);
    for (int i = 0; i < 3; ++i) kernels::quantized_gemv(x, q);
    at::cuda::device_synchronize();
    cudaProfilerStart();
    kernels::quantized_gemv(x, q);
    at::cuda::device_synchronize();
    cudaProfilerStop();
    return 0;
}

// Loads MODEL_DIR onto cuda:0 through the mapping (TUNEBENCH_DIRECT_LOAD=0) and read straight to
// the GPU (the default), alternately, REPEATS times each: every tensor bit-equal, and both timed.
int load_check(int argc, char** argv) {
    if (argc < 3) throw ConfigError("usage: tunebench_gpu_tool load-check MODEL_DIR [REPEATS] [DTYPE]");
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 2;
    const std::string dtype = argc > 4 ? argv[4] : "bfloat16";
    at::globalContext().lazyInitDevice(c10::DeviceType::CUDA);  // the CUDA context is not load time
    at::empty({1}, at::TensorOptions().device(at::kCUDA));
    std::shared_ptr<Model> reference;
    bool equal = true;
    for (int i = 0; i < repeats; ++i) {
        for (const char* direct : {"0", "1"}) {
            ::setenv("TUNEBENCH_DIRECT_LOAD", direct, 1);
            const auto t0 = std::chrono::steady_clock::now();
            auto m = Model::load(argv[2], {.dtype = dtype, .device = "cuda:0"});
            at::cuda::device_synchronize();
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (std::string(direct) == "0") {
                reference = m;
            } else {
                auto a = reference->named_weights(), b = m->named_weights();
                for (size_t k = 0; k < a.size(); ++k) equal = equal && at::equal(*a[k].second, *b[k].second);
            }
            std::printf("{\"load\": \"%s\", \"seconds\": %.3f, \"equal_to_mapping\": %s}\n",
                        std::string(direct) == "0" ? "mapping" : "direct", s, equal ? "true" : "false");
            std::fflush(stdout);
            m.reset();
            if (std::string(direct) == "1") reference.reset();
            c10::cuda::CUDACachingAllocator::emptyCache();
        }
    }
    ::unsetenv("TUNEBENCH_DIRECT_LOAD");
    return equal ? 0 : 1;
}

int main(int argc, char** argv) {
    try {
        std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "kernels") return kernels_check();
        if (cmd == "train-bench") return train_bench(argc, argv);
        if (cmd == "load-check") return load_check(argc, argv);
#ifdef TB_GPU_TOOL_HAS_ENGINE
        if (cmd == "profile-step") return profile_step(argc, argv);
#endif
        if (cmd == "gemv-profile") return gemv_profile(argc, argv);
        if (cmd == "l2-probe") return l2_probe(argc, argv);
        std::cerr << "usage: tunebench_gpu_tool kernels|train-bench|load-check|profile-step|gemv-profile|l2-probe ...\n";
        return 2;
    } catch (const Error& e) {
        std::cerr << "error: " << one_line(e) << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
