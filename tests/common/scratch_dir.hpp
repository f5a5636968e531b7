#pragma once

// A fresh directory (under the system temp dir by default), removed with everything in it when the
// object goes. Each test gets its own, so tests may run in parallel under ctest -j.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace osprey::testing {

class scratch_dir {
public:
    // Under `parent`: the system temp dir, or one a test needs another user to reach.
    explicit scratch_dir(
        const std::filesystem::path& parent = std::filesystem::temp_directory_path()) {
        const auto pattern = parent / "osprey-test-XXXXXX";
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

}  // namespace osprey::testing
