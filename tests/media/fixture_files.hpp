#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

extern "C" {
#include <libavutil/log.h>
}

#include "media_fixtures.hpp"

namespace osprey::testing {

// The media fixtures, written once per test process into a fresh temporary
// folder that is removed at exit.
class fixture_folder {
public:
    static const std::filesystem::path& path() {
        static const fixture_folder folder;
        return folder.path_;
    }

private:
    fixture_folder() {
        av_log_set_level(AV_LOG_ERROR);
        std::string name = (std::filesystem::temp_directory_path() / "osprey-media-XXXXXX");
        if (mkdtemp(name.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
            return;
        }
        path_ = name;
        if (auto ok = write_media_fixtures(path_); !ok) {
            ADD_FAILURE() << ok.error().public_message;
        }
    }
    ~fixture_folder() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    std::filesystem::path path_;
};

// The bytes of one fixture (see media_fixtures.hpp for the names).
inline std::string fixture(const std::string& name) {
    auto bytes = read_file(fixture_folder::path() / name);
    EXPECT_TRUE(bytes && !bytes->empty()) << name;
    return bytes ? *bytes : std::string();
}

}  // namespace osprey::testing
