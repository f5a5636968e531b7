#pragma once

// A fresh directory under the system temp dir, removed with everything in it when the object
// goes. Each test gets its own, so tests may run in parallel under ctest -j.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace osprey::tools::testing {

class scratch_dir {
public:
    scratch_dir() {
        const auto pattern = std::filesystem::temp_directory_path() / "osprey-test-model-XXXXXX";
        std::string name = pattern.string();
        if (mkdtemp(name.data()) == nullptr) {
            throw std::runtime_error("cannot create a directory like " + pattern.string());
        }
        path_ = name;
    }

    ~scratch_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace osprey::tools::testing
