// A LoRA adapter on every linear of a model folder, with B non-zero (a fresh adapter's B is zero
// and would change nothing), saved as PEFT does: for the export tests' merges.
#pragma once

#include <filesystem>

#include <ATen/ATen.h>

#include "adapters/lora_adapter.h"
#include "model/decoder.h"

namespace tb::test {

inline void save_random_lora(const std::filesystem::path& base, const std::filesystem::path& adapter) {
    auto model = Model::load(base, {.dtype = "float32", .device = "cpu"});
    LoraConfig lc;
    lc.r = 4;
    lc.alpha = 8;
    lc.target_modules = resolve_lora_targets(*model, "all");
    attach_lora(*model, lc, 3);
    for (Linear* l : model->linears())
        if (l->lora) l->lora->B = at::randn_like(l->lora->B) * 0.3;
    save_lora(*model, lc, adapter);
}

}  // namespace tb::test
