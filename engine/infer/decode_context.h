// A run context over a shared, immutable Model: what one decoding job owns — a static KV cache of
// `slots` sequences, the sampler state (a seeded generator per slot, the ids each row has seen),
// the adapter switch, and a decode step that advances every active slot by one token. On CUDA the
// step is captured once as a CUDA graph and replayed; logits never leave the device and only the
// chosen ids (a stop flag and a NaN/Inf flag per row, checked on the device) cross to the host. On the CPU the
// same code runs eagerly and is the reference. Several contexts can share one Model.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "infer/generation_config.h"
#include "kernels/cuda_graph.h"
#include "model/decoder.h"
#include "model/static_kv_cache.h"

namespace tb {

struct DecodeOptions {
    int64_t slots = 1;        // sequences decoded together
    int64_t capacity = 2048;  // positions per slot (prompt + generated)
    bool adapters_off = false;  // unmerged LoRA weights stay loaded but are not applied
    // each slot's adapters on or off (set_adapters): the tuned and the base model's answers decoded
    // in one batch; the step then scales every LoRA output by a per-row mask
    bool per_slot_adapters = false;
    bool cuda_graphs = cuda_graphs_default();  // capture the decode step on CUDA
    // true unless the environment sets TUNEBENCH_CUDA_GRAPHS=0 (eager decoding, to compare)
    static bool cuda_graphs_default();
};

struct DecodeStep {
    std::vector<int64_t> ids;    // per slot: the new token (-1 for an inactive slot)
    std::vector<uint8_t> stop;   // per slot: the token is one of the stop ids
};

class DecodeContext {
public:
    DecodeContext(std::shared_ptr<const Model> model, const GenerationConfig& config, std::vector<int64_t> stop_ids,
                  const DecodeOptions& options);
    ~DecodeContext();

    int64_t slots() const { return cache_.slots(); }
    int64_t capacity() const { return cache_.capacity(); }
    int64_t length(int64_t slot) const { return cache_.length(slot); }
    bool active(int64_t slot) const { return active_host_.at(slot) != 0; }
    bool is_stop(int64_t id) const;
    const GenerationConfig& config() const { return config_; }
    // Whether the step samples with these settings and stop ids (seed, lengths and stop strings
    // are the caller's and do not matter).
    bool runs(const GenerationConfig& config, const std::vector<int64_t>& stop_ids) const;
    // New sampling settings or stop ids for the next start (the graph is captured again).
    void reconfigure(const GenerationConfig& config, std::vector<int64_t> stop_ids);

    // Prefills `slot` with prompt[keep…] after its first `keep` cached positions (a shared prefix;
    // keep < prompt size) and returns the first new token, sampled with a generator seeded `seed`.
    // The slot is active from then on.
    int64_t start(int64_t slot, const std::vector<int64_t>& prompt, int64_t keep, uint64_t seed);
    // With per_slot_adapters: whether `slot`'s rows get the unmerged adapters from its next start
    // on (default on).
    void set_adapters(int64_t slot, bool on);
    // One token for every active slot (each must have room: length < capacity).
    const DecodeStep& step();
    // The slot stops decoding (its cache is kept for a later start with keep > 0).
    void finish(int64_t slot);

    bool graph_captured() const { return graph_->captured(); }
    int64_t steps() const { return steps_; }

private:
    void step_body(int64_t span);  // what the graph records; attends over positions < span
    AdapterRows step_adapters() const;
    [[noreturn]] static void throw_non_finite();

    std::shared_ptr<const Model> model_;
    GenerationConfig config_;
    std::vector<int64_t> stop_list_;
    DecodeOptions options_;
    StaticKVCache cache_;
    std::unique_ptr<kernels::CudaGraph> graph_;
    bool capture_failed_ = false;
    int64_t steps_ = 0, steps_since_config_ = 0;
    // device buffers the step reads and writes in place (their addresses are in the graph)
    at::Tensor ids_;       // [slots] int64: each slot's last token, the next step's input
    at::Tensor active_;    // [slots] int64: 1 = decoding
    at::Tensor uniforms_;  // [slots] fp32
    at::Tensor seen_;      // [slots, V] bool (repetition penalty only)
    at::Tensor stop_ids_;  // [n] int64 (n ≥ 1; -1 when there are none)
    at::Tensor out_;       // [slots, 3] int64: new token, stop flag, non-finite logits flag
    at::Tensor attention_counters_;  // [slots * heads] int32 zeros the attention kernel leaves zero (CUDA)
    at::Tensor adapter_mask_;        // [slots] fp32: 1 = the slot's rows get the adapters (per_slot_adapters)
    at::Tensor anchors_;             // ChatGLM-6B: [slots, 3] int64, each prompt's prefix_lm_anchors (model/prefix_lm.h)
    std::vector<uint8_t> adapters_host_;
    std::vector<std::mt19937_64> rngs_;
    std::vector<uint8_t> active_host_;
    DecodeStep result_;
};

}  // namespace tb
