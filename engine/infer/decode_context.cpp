// Prefill per slot (eager), decode steps for all slots (eager, or a replayed CUDA graph).
#include "infer/decode_context.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"
#include "infer/sampler.h"
#include "infer/token_sampler.h"
#include "kernels/decode_attention.h"
#include "kernels/greedy_step.h"
#include "model/attention.h"
#include "model/linear.h"
#include "model/prefix_lm.h"

namespace tb {

namespace {
int cuda_index(const at::Device& d) { return d.is_cuda() ? (d.has_index() ? d.index() : 0) : -1; }
}  // namespace

bool DecodeOptions::cuda_graphs_default() {
    const char* v = std::getenv("TUNEBENCH_CUDA_GRAPHS");
    return !(v && std::string(v) == "0");
}

DecodeContext::DecodeContext(std::shared_ptr<const Model> model, const GenerationConfig& config,
                             std::vector<int64_t> stop_ids, const DecodeOptions& options)
    : model_(std::move(model)), config_(config), stop_list_(std::move(stop_ids)), options_(options),
      cache_(model_->config(), options.slots, options.capacity, model_->dtype(), model_->device()),
      adapters_host_(options.slots, 1), rngs_(options.slots), active_host_(options.slots, 0) {
    config_.validate();
    c10::InferenceMode guard;
    const auto dev = model_->device();
    auto longs = at::TensorOptions().dtype(at::kLong).device(dev);
    const int64_t B = options.slots;
    ids_ = at::zeros({B}, longs);
    active_ = at::zeros({B}, longs);
    uniforms_ = at::zeros({B}, at::TensorOptions().dtype(at::kFloat).device(dev));
    out_ = at::zeros({B, 3}, longs);
    if (options.per_slot_adapters) adapter_mask_ = at::ones({B}, at::TensorOptions().dtype(at::kFloat).device(dev));
    if (model_->config().prefix_lm()) anchors_ = at::zeros({B, 3}, longs);
    if (dev.is_cuda())
        attention_counters_ = at::zeros({B * model_->config().num_attention_heads}, longs.dtype(at::kInt));
    result_.ids.assign(B, -1);
    result_.stop.assign(B, 0);
    reconfigure(config, stop_list_);
}

DecodeContext::~DecodeContext() = default;

void DecodeContext::reconfigure(const GenerationConfig& config, std::vector<int64_t> stop_ids) {
    config.validate();
    c10::InferenceMode guard;
    const auto dev = model_->device();
    config_ = config;
    stop_list_ = std::move(stop_ids);
    std::vector<int64_t> list = stop_list_.empty() ? std::vector<int64_t>{-1} : stop_list_;
    stop_ids_ = at::tensor(list, at::TensorOptions().dtype(at::kLong)).to(dev);
    if (config_.repetition_penalty != 1.0 && !seen_.defined())
        seen_ = at::zeros({slots(), model_->config().vocab_size}, at::TensorOptions().dtype(at::kBool).device(dev));
    // the graph has the old settings baked in: record a new one after an eager step
    graph_ = std::make_unique<kernels::CudaGraph>(cuda_index(dev));
    capture_failed_ = false;
    steps_since_config_ = 0;
}

void DecodeContext::throw_non_finite() {
    throw Error("the model produced NaN/Inf logits",
                "fp16 overflow is the usual cause: try --dtype bfloat16 or float32");
}

bool DecodeContext::runs(const GenerationConfig& c, const std::vector<int64_t>& stop_ids) const {
    return c.do_sample == config_.do_sample && c.temperature == config_.temperature && c.top_p == config_.top_p &&
           c.top_k == config_.top_k && c.repetition_penalty == config_.repetition_penalty && stop_ids == stop_list_;
}

bool DecodeContext::is_stop(int64_t id) const {
    return std::find(stop_list_.begin(), stop_list_.end(), id) != stop_list_.end();
}

int64_t DecodeContext::start(int64_t slot, const std::vector<int64_t>& prompt, int64_t keep, uint64_t seed) {
    if (slot < 0 || slot >= slots()) throw Error("decode slot " + std::to_string(slot) + " does not exist");
    const int64_t P = static_cast<int64_t>(prompt.size());
    if (P < 1) throw ConfigError("the prompt is empty", "give a prompt, or use a tokenizer that adds BOS");
    keep = std::clamp<int64_t>(keep, 0, std::min(P - 1, length(slot)));
    // ChatGLM-6B's prompt attends to itself both ways: a cached prefix saw another prompt's end
    const bool prefix_lm = model_->config().prefix_lm();
    if (prefix_lm) keep = 0;
    if (P >= capacity()) {
        throw ConfigError("the prompt has " + std::to_string(P) + " tokens; this context holds " +
                              std::to_string(capacity()) + " positions",
                          "shorten the prompt or the history");
    }
    c10::InferenceMode guard;
    int64_t first = -1;
    graph_->run([&] {
        const auto dev = model_->device();
        auto longs = at::TensorOptions().dtype(at::kLong);
        cache_.truncate(slot, keep);
        std::vector<int64_t> rest(prompt.begin() + keep, prompt.end());
        const int64_t T = static_cast<int64_t>(rest.size());
        auto ids = at::tensor(rest, longs).to(dev).unsqueeze(0);                    // [1, T]
        auto positions = at::arange(keep, keep + T, longs.device(dev)).unsqueeze(0);  // [1, T]
        at::Tensor prefix;
        if (prefix_lm) {
            auto anchors = prefix_lm_anchors(ids, positions, model_->config());  // [1, 3]
            anchors_.narrow(0, slot, 1).copy_(anchors);
            prefix = anchors.select(1, 2);
            positions = prefix_lm_positions(anchors, positions);  // [1, 2, T]
        }
        const auto kernel = model_->attention_kernel();
        const bool adapters = options_.per_slot_adapters ? adapters_host_[slot] != 0 : !options_.adapters_off;
        auto logits = model_->forward_with(ids, positions, [&](size_t layer, const at::Tensor& q, const at::Tensor& k,
                                                               const at::Tensor& v) {
            auto [K, V] = cache_.write(layer, slot, k, v);  // [1, nkv, keep + T, hd]
            return attention(q, K, V, {}, kernel, {}, prefix);
        }, /*last_only=*/true, adapters);  // [1, 1, V]
        cache_.commit(slot, T);
        at::Tensor seen_row;
        if (seen_.defined()) {
            seen_row = seen_.narrow(0, slot, 1);
            seen_row.zero_();
            seen_row.index_fill_(1, at::tensor(prompt, longs).to(dev), true);
        }
        rngs_[slot].seed(seed);
        auto u = at::full({1}, uniform01(rngs_[slot]), at::TensorOptions().dtype(at::kFloat).device(dev));
        auto next = sample_tokens(logits.select(1, 0), seen_row, u, config_);  // [1]
        if (seen_row.defined()) seen_row.scatter_(1, next.unsqueeze(1), true);
        ids_.narrow(0, slot, 1).copy_(next);
        active_.select(0, slot).fill_(1);
        first = next.item<int64_t>();
        if (!logits.isfinite().all().item<bool>()) throw_non_finite();
    });
    active_host_[slot] = 1;
    return first;
}

void DecodeContext::finish(int64_t slot) {
    if (!active(slot)) return;
    active_host_[slot] = 0;
    c10::InferenceMode guard;
    graph_->run([&] { active_.select(0, slot).fill_(0); });
}

AdapterRows DecodeContext::step_adapters() const {
    if (options_.per_slot_adapters) return AdapterRows(adapter_mask_);
    return !options_.adapters_off;
}

void DecodeContext::set_adapters(int64_t slot, bool on) {
    if (!options_.per_slot_adapters) throw Error("this decode context applies its adapters to every slot alike");
    if (slot < 0 || slot >= slots()) throw Error("decode slot " + std::to_string(slot) + " does not exist");
    if (active(slot)) throw Error("decode slot " + std::to_string(slot) + " is decoding; finish it first");
    adapters_host_[slot] = on ? 1 : 0;
    c10::InferenceMode guard;
    graph_->run([&] { adapter_mask_.select(0, slot).fill_(on ? 1.0 : 0.0); });
}

void DecodeContext::step_body(int64_t span) {
    const int64_t B = slots(), heads = model_->config().num_attention_heads;
    auto& positions = cache_.device_lengths();  // [B]: where each row's new token goes
    auto lengths = positions + 1;               // keys valid after the write
    // ChatGLM-6B: 2-D positions from each prompt's anchors [B, 2, 1]
    const auto rope_positions = anchors_.defined() ? prefix_lm_positions(anchors_, positions.unsqueeze(1)) : positions.unsqueeze(1);
    auto logits = model_->forward_raw(ids_.unsqueeze(1), rope_positions,
                                      [&](size_t layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                          const at::Tensor& cos, const at::Tensor& sin) {
        auto& K = cache_.keys(layer);
        auto& V = cache_.values(layer);
        auto ctx = kernels::rope_cache_attention(model_->rope(), q, k, v, cos, sin, K, V, positions, lengths, heads,
                                                 span, attention_counters_);  // [B, nh, 1, hd]
        return ctx.reshape({B, 1, -1});
    }, /*last_only=*/true, step_adapters());  // [B, 1, V]
    if (!config_.do_sample && !seen_.defined()) {  // greedy: the whole tail in one launch on CUDA
        kernels::greedy_step(logits.select(1, 0), stop_ids_, active_, ids_, positions, out_);
        return;
    }
    auto next = sample_tokens(logits.select(1, 0), seen_, uniforms_, config_);  // [B]
    if (seen_.defined()) seen_.scatter_(1, next.unsqueeze(1), true);
    kernels::record_step(next, logits.select(1, 0), stop_ids_, active_, ids_, positions, out_);
}

const DecodeStep& DecodeContext::step() {
    for (int64_t s = 0; s < slots(); ++s) {
        if (active(s) && length(s) >= capacity())
            throw Error("decode slot " + std::to_string(s) + " is full (" + std::to_string(capacity()) + " positions)");
    }
    c10::InferenceMode guard;
    std::vector<float> u(slots(), 0.0f);
    if (config_.do_sample) {
        for (int64_t s = 0; s < slots(); ++s)
            if (active(s)) u[s] = uniform01(rngs_[s]);
    }
    const bool use_graph = options_.cuda_graphs && model_->device().is_cuda() && !capture_failed_;
    if (use_graph && !graph_->captured() && steps_since_config_ >= 1) {
        // the first step ran eagerly (cuBLAS handles, allocator warm); record the step now
        std::string why;
        if (!graph_->capture([&] { step_body(capacity()); }, &why)) {
            capture_failed_ = true;
            log::warn("decoding without a CUDA graph: ", why);
        }
    }
    // eager: attend over the longest active row's keys only (rounded up, so kernels see few shapes)
    int64_t longest = 0;
    for (int64_t s = 0; s < slots(); ++s)
        if (active(s)) longest = std::max(longest, length(s) + 1);
    const int64_t span = std::min(capacity(), std::max<int64_t>(64, (longest + 63) / 64 * 64));
    at::Tensor host;
    graph_->run([&] {
        if (config_.do_sample) uniforms_.copy_(at::tensor(u, at::TensorOptions().dtype(at::kFloat)));
        if (graph_->captured()) graph_->replay();
        else step_body(span);
        host = out_.to(at::kCPU);
    });
    ++steps_;
    ++steps_since_config_;
    const auto* p = host.data_ptr<int64_t>();
    for (int64_t s = 0; s < slots(); ++s)
        if (active(s) && p[3 * s + 2] != 0) throw_non_finite();
    for (int64_t s = 0; s < slots(); ++s) {
        if (active(s)) {
            cache_.advanced(s);
            result_.ids[s] = p[3 * s];
            result_.stop[s] = p[3 * s + 1] != 0;
        } else {
            result_.ids[s] = -1;
            result_.stop[s] = 0;
        }
    }
    return result_;
}

}  // namespace tb
