#include "media/local_source.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace osprey::media {
namespace {

namespace fs = std::filesystem;

TEST(DecodeDataUri, DecodesStrictBase64) {
    EXPECT_EQ(decode_data_uri("data:image/png;base64,aGVsbG8=", 100).value(), "hello");
    EXPECT_EQ(decode_data_uri("data:image/png;base64,aGk=", 100).value(), "hi");
    EXPECT_EQ(decode_data_uri("data:;base64,YWJj", 100).value(), "abc");
    EXPECT_EQ(decode_data_uri("data:image/png;base64,", 100).value(), "");
}

TEST(DecodeDataUri, RefusesBadPayloads) {
    const char* bad[] = {
        "data:image/png;base64,aGVsbG8",     // length not a multiple of 4
        "data:image/png;base64,aGVs*G8=",    // outside the alphabet
        "data:image/png;base64,aG=sbG8=",    // padding in the middle
        "data:image/png;base64,aGVsbG8===",  // too much padding
        "data:image/png,hello",              // not base64
        "data:image/png;base64",             // no payload at all
        "image/png;base64,aGVsbG8=",         // not a data URI
    };
    for (const char* uri : bad) {
        auto r = decode_data_uri(uri, 100);
        ASSERT_FALSE(r) << uri;
        EXPECT_EQ(r.error().code, core::error_code::invalid_value) << uri;
    }
}

TEST(DecodeDataUri, CapsTheDecodedSize) {
    EXPECT_TRUE(decode_data_uri("data:x;base64,YWJjZGVm", 6));
    auto r = decode_data_uri("data:x;base64,YWJjZGVm", 5);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().public_message.find("larger"), std::string::npos);
}

class ReadUnderRoot : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() /
                ("osprey_media_root_" +
                 std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base_);
        fs::create_directories(base_ / "root" / "sub");
        fs::create_directories(base_ / "rootless");
        write(base_ / "root" / "sub" / "a.png", "inside");
        write(base_ / "secret.txt", "outside");
        write(base_ / "rootless" / "b.png", "sibling");
        fs::create_symlink(base_ / "secret.txt", base_ / "root" / "escape.png");
    }
    void TearDown() override { fs::remove_all(base_); }

    static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
    std::string root() const { return (base_ / "root").string(); }

    fs::path base_;
};

TEST_F(ReadUnderRoot, ReadsAFileInsideTheRoot) {
    const std::string path = (base_ / "root" / "sub" / "a.png").string();
    EXPECT_EQ(read_under_root("file://" + path, root(), 100).value(), "inside");
    EXPECT_EQ(read_under_root(path, root(), 100).value(), "inside");
}

TEST_F(ReadUnderRoot, RefusesEverythingOutsideIt) {
    const std::string outside[] = {
        "file://" + (base_ / "secret.txt").string(),
        "file://" + root() + "/../secret.txt",
        "file://" + root() + "/escape.png",                   // a symbolic link out of the root
        "file://" + (base_ / "rootless" / "b.png").string(),  // a prefix, not a parent
        "file://" + root() + "/sub/missing.png",
        "file://" + root() + "/sub",  // a folder
        "file://" + root() + "/sub/a%2epng",
        "relative/a.png",
    };
    for (const auto& location : outside) {
        auto r = read_under_root(location, root(), 100);
        ASSERT_FALSE(r) << location;
        EXPECT_EQ(r.error().code, core::error_code::media_unavailable) << location;
        EXPECT_EQ(r.error().public_message.find(base_.string()), std::string::npos);
    }
}

TEST_F(ReadUnderRoot, RefusesWithoutARootAndPastTheCap) {
    const std::string path = "file://" + (base_ / "root" / "sub" / "a.png").string();
    EXPECT_FALSE(read_under_root(path, "", 100));
    EXPECT_FALSE(read_under_root(path, root(), 3));
}

}  // namespace
}  // namespace osprey::media
