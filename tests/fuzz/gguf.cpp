// *.gguf (GGUF exports read back for their check): header, metadata values, tensor infos,
// offsets and sizes against the file.
#include "fuzz_support.h"
#include "io/gguf_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = tb::fuzz::write("model.gguf", data, size);
    tb::fuzz::expect_clean([&] {
        tb::io::GgufReader r(path);
        for (const auto& t : r.tensors()) tb::fuzz::touch(t.data, t.nbytes);
    });
    return 0;
}
