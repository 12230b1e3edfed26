#include "train/batching.h"

#include <algorithm>
#include <map>
#include <set>
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

namespace {

// Segment numbers and, for flash attention's variable-length form, where each example and each
// row's padding tail starts in the flattened B·T tokens.
Segments neat_segments(const std::vector<data::EncodedExample>& ex, const std::vector<int64_t>& idx,
                       const at::Tensor& ids, const at::Device& device) {
    const int64_t T = ids.size(1);
    std::vector<int32_t> starts;
    int64_t longest = 0;
    for (size_t r = 0; r < idx.size(); ++r) {
        const auto& e = ex[idx[r]];
        int64_t t = static_cast<int64_t>(r) * T;
        std::vector<int64_t> lengths = e.segments;
        if (lengths.empty()) lengths = {static_cast<int64_t>(e.input_ids.size())};
        if (int64_t tail = T - static_cast<int64_t>(e.input_ids.size()); tail > 0) lengths.push_back(tail);
        for (auto n : lengths) {
            starts.push_back(static_cast<int32_t>(t));
            t += n;
            longest = std::max(longest, n);
        }
    }
    starts.push_back(static_cast<int32_t>(idx.size() * T));
    Segments s;
    s.ids = ids.to(device);
    s.cu_seqlens = at::tensor(starts, at::kInt).to(device);
    s.max_len = longest;
    return s;
}

}  // namespace

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
        if (neat) b.segments = neat_segments(ex, idx, seg, device);
    }
    const auto counts = count_tokens(ex, idx);
    b.tokens = counts.tokens;
    b.label_tokens = counts.label_tokens;
    b.input_ids = ids.to(device);
    b.labels = labels.to(device);
    return b;
}

namespace {

// LLaMA-Factory's greedy_knapsack over examples [begin, end): lengths in ascending order; each row
// takes the longest example that still fits, until none does. Among equal lengths the latest
// example goes first (its length2indexes[length].pop()).
void pack_range(const std::vector<data::EncodedExample>& ex, size_t begin, size_t end, int64_t cutoff,
                std::vector<data::EncodedExample>& rows, int64_t& dropped) {
    std::multiset<int64_t> lengths;
    std::map<int64_t, std::vector<size_t>> by_length;
    for (size_t i = begin; i < end; ++i) {
        const auto n = static_cast<int64_t>(ex[i].input_ids.size());
        if (n > cutoff) {  // LLaMA-Factory drops it ("Dropped lengthy example")
            ++dropped;
            continue;
        }
        lengths.insert(n);
        by_length[n].push_back(i);
    }
    while (!lengths.empty()) {
        data::EncodedExample row;
        int64_t room = cutoff;
        for (auto it = lengths.upper_bound(room); it != lengths.begin(); it = lengths.upper_bound(room)) {
            const int64_t n = *std::prev(it);
            lengths.erase(std::prev(it));
            auto& same = by_length[n];
            const auto& e = ex[same.back()];
            same.pop_back();
            row.input_ids.insert(row.input_ids.end(), e.input_ids.begin(), e.input_ids.end());
            row.labels.insert(row.labels.end(), e.labels.begin(), e.labels.end());
            row.segments.push_back(n);
            room -= n;
        }
        rows.push_back(std::move(row));
    }
}

}  // namespace

std::vector<data::EncodedExample> pack_examples(const std::vector<data::EncodedExample>& ex, int64_t cutoff,
                                                int64_t* dropped) {
    // LLaMA-Factory packs within each batch of its dataset.map (preprocessing_batch_size, 1000 rows)
    constexpr size_t kChunk = 1000;
    std::vector<data::EncodedExample> rows;
    int64_t too_long = 0;
    for (size_t begin = 0; begin < ex.size(); begin += kChunk)
        pack_range(ex, begin, std::min(ex.size(), begin + kChunk), cutoff, rows, too_long);
    if (dropped) *dropped = too_long;
    return rows;
}

}  // namespace tb
