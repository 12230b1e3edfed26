// The table of families; see family.h.
#include "model/arch/family.h"

#include <nlohmann/json.hpp>

namespace tb {

const std::vector<Family>& families() {
    static const std::vector<Family> all = {chatglm6b_family(), chatglm_family(), hf_decoder_family()};
    return all;
}

const Family* family_of(const nlohmann::json& config) {
    for (const auto& f : families())
        if (f.recognises(config)) return &f;
    return nullptr;
}

const Family& family_of(Arch arch) {
    switch (arch) {
        case Arch::ChatGLM6B: return chatglm6b_family();
        case Arch::ChatGLM: return chatglm_family();
        case Arch::Llama:
        case Arch::Qwen2:
        case Arch::Qwen3:
        case Arch::Glm: return hf_decoder_family();
    }
    return hf_decoder_family();
}

}  // namespace tb
