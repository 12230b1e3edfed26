// A user's data files: the first byte picks the kind (JSON array, JSON Lines, CSV, or the
// dataset_info.json registry), the rest is the file. Rows go through the alpaca and sharegpt
// converters as training does.
#include "data/dataset_registry.h"
#include "data/records.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const char* names[4] = {"dataset/data.json", "dataset/data.jsonl", "dataset/data.csv", "dataset/dataset_info.json"};
    const int kind = data[0] % 4;
    const auto path = tb::fuzz::write(names[kind], data + 1, size - 1);
    tb::fuzz::expect_clean([&] {
        if (kind == 3) {
            for (const auto& entry : tb::data::read_dataset_info(path.parent_path())) {
                const auto& attr = entry.second;
                if (attr.file_name == "data.json" || attr.file_name == "data.jsonl" || attr.file_name == "data.csv")
                    tb::fuzz::expect_clean([&] { tb::data::load_dataset(path.parent_path(), attr, 100); });
            }
            return;
        }
        tb::data::read_table(path);
        tb::data::DatasetAttr alpaca, sharegpt;
        sharegpt.formatting = "sharegpt";
        int row = 0;
        for (const auto& r : tb::data::read_records(path)) {
            for (const auto* attr : {&alpaca, &sharegpt})
                tb::fuzz::expect_clean([&] { tb::data::convert_record(r.value, *attr, "data:" + std::to_string(row)); });
            if (++row > 50) break;
        }
    });
    return 0;
}
