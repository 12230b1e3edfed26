// ChatGLM-6B's anchors and 2-D positions; see prefix_lm.h (get_masks / get_position_ids).
#include "model/prefix_lm.h"

#include <ATen/ATen.h>

#include "core/error.h"

namespace tb {

namespace {
// the first column of each row where `hit` [B, T] is true (T where none)
at::Tensor first_hit(const at::Tensor& hit) {
    const int64_t T = hit.size(1);
    auto cols = at::arange(T, hit.options().dtype(at::kLong)).expand_as(hit);
    return at::where(hit, cols, T).amin(1);
}
}  // namespace

at::Tensor prefix_lm_anchors(const at::Tensor& ids, const at::Tensor& index, const ModelConfig& c) {
    const int64_t T = ids.size(1);
    auto sop_col = first_hit(ids == c.bos_token_id.value_or(-1));
    auto gmask_col = first_hit(ids == c.gmask_token_id.value_or(-1));
    auto mask_col = at::where(gmask_col < T, gmask_col, first_hit(ids == c.mask_token_id.value_or(-1)));
    const auto bad_sop = (sop_col == T).nonzero();
    const auto bad_mask = (mask_col == T).nonzero();
    if (bad_sop.numel() || bad_mask.numel()) {
        const bool sop = bad_sop.numel() != 0;
        const int64_t row = (sop ? bad_sop : bad_mask)[0][0].item<int64_t>();
        throw Error("ChatGLM-6B: input row " + std::to_string(row) + " has no " +
                        (sop ? "<sop> (id " + std::to_string(c.bos_token_id.value_or(-1)) + ")"
                             : "[gMASK] or [MASK] (ids " + std::to_string(c.gmask_token_id.value_or(-1)) + ", " +
                                   std::to_string(c.mask_token_id.value_or(-1)) + ")"),
                    "ChatGLM-6B's inputs end their prompt with [gMASK] <sop> (the chatglm6b template adds them); "
                    "a cutoff_len that cuts them off is too short");
    }
    auto at_col = [&](const at::Tensor& col) { return index.gather(1, col.unsqueeze(1)).squeeze(1); };
    return at::stack({at_col(sop_col), at_col(mask_col), sop_col}, 1);
}

at::Tensor prefix_lm_positions(const at::Tensor& anchors, const at::Tensor& index) {
    auto sop = anchors.select(1, 0).unsqueeze(1), mask = anchors.select(1, 1).unsqueeze(1);  // [B, 1]
    auto prompt = index < sop;
    auto position = at::where(prompt, index, mask);
    auto block = at::where(prompt, at::zeros_like(index), index - sop + 1);
    return at::stack({position, block}, 1);
}

}  // namespace tb
