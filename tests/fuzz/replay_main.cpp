// Stands in for libFuzzer's main in the builds without it (gcc, ASan, TSan):
// runs LLVMFuzzerTestOneInput once on each file named, and on each file in
// each folder named, so that ctest checks the seed corpora in every build
// and the targets keep compiling where clang is absent.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool replay_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        return false;
    }
    // A vector of exactly the file's size, so that ASan catches any read
    // past the end, as it would under libFuzzer.
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    int replayed = 0;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg(argv[i]);
        std::vector<fs::path> files;
        if (fs::is_directory(arg)) {
            for (const auto& entry : fs::directory_iterator(arg)) {
                files.push_back(entry.path());
            }
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(arg);
        }
        for (const auto& file : files) {
            if (!replay_file(file)) {
                return 1;
            }
            ++replayed;
        }
    }
    std::printf("replay: %d inputs, no failure\n", replayed);
    return replayed > 0 ? 0 : 1;
}
