// Runs a fuzz target over files and folders without libFuzzer (the normal build): the committed
// corpus and every input that once crashed stay regression tests in ctest.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    int files = 0;
    auto run = [&](const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        ++files;
    };
    for (int i = 1; i < argc; ++i) {
        if (!fs::exists(argv[i])) continue;  // a target may have no crash folder yet
        if (fs::is_directory(argv[i])) {
            std::vector<fs::path> all;
            for (const auto& e : fs::recursive_directory_iterator(argv[i]))
                if (e.is_regular_file()) all.push_back(e.path());
            std::sort(all.begin(), all.end());
            for (const auto& p : all) run(p);
        } else {
            run(argv[i]);
        }
    }
    std::printf("%d inputs ran without a crash\n", files);
    return files > 0 ? 0 : 1;  // an empty corpus is a broken test, not a pass
}
