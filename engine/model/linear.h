// A named linear layer: `name` is its checkpoint path without ".weight", so loading, adapters
// and export need no mapping tables. Adapters and quantized weights hook in here later.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace tb {

struct Linear {
    std::string name;
    at::Tensor weight;  // [out, in]
    at::Tensor bias;    // [out] or undefined

    at::Tensor operator()(const at::Tensor& x) const { return at::linear(x, weight, bias); }
};

}  // namespace tb
