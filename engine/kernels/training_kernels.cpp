// The training kernels' switch; see training_kernels.h.
#include "kernels/training_kernels.h"

#include <cstdlib>
#include <string>

namespace tb::kernels {

bool training_kernels_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("TUNEBENCH_TRAINING_KERNELS");
        return !(v && std::string(v) == "0");
    }();
    return on;
}

}  // namespace tb::kernels
