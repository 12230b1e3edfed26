#include "infer/model_summary.h"

#include <cstdio>

#include "model/model_config.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tb {

ModelSummary describe_model(const std::filesystem::path& folder) {
    const auto config = ModelConfig::from_folder(folder);
    const auto tok = load_tokenizer(folder, &config);
    ModelSummary s;
    s.architecture = arch_name(config.arch);
    s.parameters = config.parameter_count();
    s.layers = config.num_hidden_layers;
    s.hidden_size = config.hidden_size;
    s.dtype = config.torch_dtype;
    s.template_name = detect_template(folder, config, *tok);
    s.tokenizer_kind = tok->kind();
    return s;
}

std::string format_parameter_count(int64_t n) {
    char buf[32];
    if (n >= 1'000'000'000) std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
    else if (n >= 1'000'000) std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
    else if (n >= 1'000) std::snprintf(buf, sizeof buf, "%.0fK", n / 1e3);
    else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    return buf;
}

}  // namespace tb
