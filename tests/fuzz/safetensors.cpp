// *.safetensors (model weights, adapter_model.safetensors): header JSON, offsets, dtypes.
#include "fuzz_support.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("model.safetensors", data, size);
    tb::fuzz::expect_clean([&] {
        tb::io::SafetensorsReader r(path);
        for (const auto& name : r.names()) {
            const auto& t = r.tensor(name);
            tb::fuzz::touch(t.data, t.nbytes);
        }
    });
    return 0;
}
