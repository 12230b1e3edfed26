// pytorch_model.bin (torch.save zip + pickle).
#include "fuzz_support.h"
#include "io/torch_bin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("pytorch_model.bin", data, size);
    tb::fuzz::expect_clean([&] {
        tb::io::TorchBinReader r(path);
        for (const auto& name : r.names()) {
            const auto& t = r.tensor(name);
            tb::fuzz::touch(t.data, t.nbytes);
        }
    });
    return 0;
}
