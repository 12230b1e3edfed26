#include "train/batching.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace tb {

namespace {
// Fisher–Yates with mt19937_64: the same order on every platform (std::shuffle is not portable).
void shuffle_indices(std::vector<int64_t>& v, std::mt19937_64& rng) {
    for (size_t i = v.size(); i > 1; --i) {
        size_t j = rng() % i;
        std::swap(v[i - 1], v[j]);
    }
}
}  // namespace

std::vector<std::vector<int64_t>> epoch_batches(const std::vector<data::EncodedExample>& ex, int64_t bs,
                                                uint64_t seed, int64_t epoch, bool shuffle, bool group_by_length) {
    std::vector<int64_t> order(ex.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
    if (shuffle) shuffle_indices(order, rng);
    if (group_by_length) {
        // megabatches of 50 batches, each sorted longest first (LengthGroupedSampler)
        const size_t mega = static_cast<size_t>(bs) * 50;
        for (size_t s = 0; s < order.size(); s += mega) {
            auto e = order.begin() + std::min(order.size(), s + mega);
            std::stable_sort(order.begin() + s, e, [&](int64_t a, int64_t b) {
                return ex[a].input_ids.size() > ex[b].input_ids.size();
            });
        }
    }
    std::vector<std::vector<int64_t>> batches;
    for (size_t s = 0; s < order.size(); s += bs)
        batches.emplace_back(order.begin() + s, order.begin() + std::min(order.size(), s + static_cast<size_t>(bs)));
    if (group_by_length && shuffle) {
        std::vector<int64_t> perm(batches.size());
        std::iota(perm.begin(), perm.end(), 0);
        shuffle_indices(perm, rng);
        std::vector<std::vector<int64_t>> out;
        for (auto p : perm) out.push_back(std::move(batches[p]));
        return out;
    }
    return batches;
}

TokenCounts count_tokens(const std::vector<data::EncodedExample>& ex, const std::vector<int64_t>& idx) {
    TokenCounts c;
    for (auto i : idx) {
        const auto& labels = ex[i].labels;
        c.tokens += static_cast<int64_t>(labels.size());
        for (size_t t = 1; t < labels.size(); ++t) c.label_tokens += labels[t] != data::kIgnoreIndex;
    }
    return c;
}

Batch collate(const std::vector<data::EncodedExample>& ex, const std::vector<int64_t>& idx, int64_t pad_id,
              const at::Device& device, int64_t multiple_of, bool neat) {
    size_t longest = 0;
    for (auto i : idx) longest = std::max(longest, ex[i].input_ids.size());
    const int64_t T = (static_cast<int64_t>(longest) + multiple_of - 1) / multiple_of * multiple_of;
    const int64_t B = static_cast<int64_t>(idx.size());
    auto ids = at::full({B, T}, pad_id, at::kLong), labels = at::full({B, T}, data::kIgnoreIndex, at::kLong);
    auto id_acc = ids.accessor<int64_t, 2>(), lab_acc = labels.accessor<int64_t, 2>();
    Batch b;
    bool packed = false;
    for (int64_t r = 0; r < B; ++r) {
        const auto& e = ex[idx[r]];
        packed = packed || !e.segments.empty();
        for (size_t t = 0; t < e.input_ids.size(); ++t) {
            id_acc[r][t] = e.input_ids[t];
            lab_acc[r][t] = e.labels[t];
        }
    }
    if (packed) {  // positions restart per packed example; segment numbers 1, 2, … (0: padding)
        auto pos = at::zeros({B, T}, at::kLong), seg = at::zeros({B, T}, at::kLong);
        auto pos_acc = pos.accessor<int64_t, 2>(), seg_acc = seg.accessor<int64_t, 2>();
        for (int64_t r = 0; r < B; ++r) {
            const auto& e = ex[idx[r]];
            std::vector<int64_t> lengths = e.segments;
            if (lengths.empty()) lengths = {static_cast<int64_t>(e.input_ids.size())};
            int64_t t = 0;
            for (size_t s = 0; s < lengths.size(); ++s) {
                for (int64_t i = 0; i < lengths[s]; ++i, ++t) {
                    pos_acc[r][t] = i;
                    seg_acc[r][t] = static_cast<int64_t>(s) + 1;
                }
            }
        }
        b.position_ids = pos.to(device);
        if (neat) b.segment_ids = seg.to(device);
    }
    const auto counts = count_tokens(ex, idx);
    b.tokens = counts.tokens;
    b.label_tokens = counts.label_tokens;
    b.input_ids = ids.to(device);
    b.labels = labels.to(device);
    return b;
}

std::vector<data::EncodedExample> pack_examples(const std::vector<data::EncodedExample>& ex, int64_t cutoff) {
    std::vector<int64_t> order(ex.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return ex[a].input_ids.size() > ex[b].input_ids.size();
    });
    std::vector<data::EncodedExample> bins;
    for (auto i : order) {
        const auto& e = ex[i];
        auto fit = std::find_if(bins.begin(), bins.end(), [&](const data::EncodedExample& b) {
            return b.input_ids.size() + e.input_ids.size() <= static_cast<size_t>(cutoff);
        });
        const auto length = static_cast<int64_t>(e.input_ids.size());
        if (fit == bins.end()) {
            bins.push_back(e);
            bins.back().segments = {length};
            continue;
        }
        fit->input_ids.insert(fit->input_ids.end(), e.input_ids.begin(), e.input_ids.end());
        fit->labels.insert(fit->labels.end(), e.labels.begin(), e.labels.end());
        fit->segments.push_back(length);
    }
    return bins;
}

}  // namespace tb
