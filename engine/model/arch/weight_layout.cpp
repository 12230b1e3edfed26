// weight_layout: the family's own table (engine/model/arch/<family>.cpp).
#include "model/arch/weight_layout.h"

#include "model/arch/family.h"

namespace tb {

WeightLayout weight_layout(const ModelConfig& c) { return family_of(c.arch).layout(c); }

}  // namespace tb
