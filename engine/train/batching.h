// Training batches: a seeded shuffle per epoch (optionally grouped by length, like HF's
// LengthGroupedSampler), right padding to a multiple of 8 as LLaMA-Factory's collator does,
// and optional packing of short examples into cutoff_len rows.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "data/sft_encoding.h"
#include "model/attention.h"

namespace tb {

struct Batch {
    at::Tensor input_ids;  // [B, T] int64, right-padded
    at::Tensor labels;     // [B, T] int64, -100 on prompt and padding
    int64_t tokens = 0;    // real (unpadded) tokens
    int64_t label_tokens = 0;  // tokens that carry loss after the causal shift
    // Packed rows only: positions restarting per packed example ([B, T] int64 or undefined), and
    // with neat packing the examples' segments: attention stays within each example.
    at::Tensor position_ids;
    Segments segments;
};

// Example indices of every batch of one epoch; same (seed, epoch) → same order.
std::vector<std::vector<int64_t>> epoch_batches(const std::vector<data::EncodedExample>& examples,
                                                int64_t batch_size, uint64_t seed, int64_t epoch, bool shuffle,
                                                bool group_by_length);

// Tokens and loss-carrying tokens of the rows `indices`, without collating them: each process of a
// data-parallel run counts the whole step's rows (the loss is normalised by all of them).
struct TokenCounts {
    int64_t tokens = 0, label_tokens = 0;
};
TokenCounts count_tokens(const std::vector<data::EncodedExample>& examples, const std::vector<int64_t>& indices);

Batch collate(const std::vector<data::EncodedExample>& examples, const std::vector<int64_t>& indices,
              int64_t pad_id, const at::Device& device, int64_t multiple_of = 8, bool neat = false);

// Packing of whole examples into rows of at most cutoff_len tokens by LLaMA-Factory's greedy
// knapsack, in its order and within each 1000 examples (its preprocessing batches). Positions
// restart per example; attention is blocked between the packed examples only with neat packing,
// which collate's `neat` asks for. Examples longer than cutoff_len are left out, as
// LLaMA-Factory drops them; `dropped` counts them.
// What examples are cut to and packed rows hold when packing: cutoff_len − 1, as LLaMA-Factory's
// DataArguments lowers it ("avoid pad_to_multiple_of").
inline int64_t packed_row_length(int64_t cutoff_len) { return cutoff_len - 1; }

std::vector<data::EncodedExample> pack_examples(const std::vector<data::EncodedExample>& examples, int64_t cutoff_len,
                                                int64_t* dropped = nullptr);

}  // namespace tb
