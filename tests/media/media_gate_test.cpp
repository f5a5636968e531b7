#include "media/media_gate.hpp"

#include <gtest/gtest.h>

#include "fake_resolver.hpp"
#include "fixture_files.hpp"
#include "loopback_http_server.hpp"

namespace osprey::media {
namespace {

using osprey::testing::fake_resolver;
using osprey::testing::fixture;
using osprey::testing::loopback_http_server;

std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        for (std::size_t k = 1; k < n; ++k) {
            group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + k]))
                     << (16 - 8 * k);
        }
        for (std::size_t k = 0; k < 4; ++k) {
            out += k <= n ? alphabet[(group >> (18 - 6 * k)) & 63] : '=';
        }
    }
    return out;
}

core::message_part part(core::part_kind kind, std::string source, std::string param) {
    core::message_part p;
    p.kind = kind;
    p.source = std::move(source);
    p.param = std::move(param);
    return p;
}

core::message_part inline_part(core::part_kind kind, const std::string& file, int index) {
    return part(kind, "data:application/octet-stream;base64," + base64(fixture(file)),
                "messages[0].content[" + std::to_string(index) + "].x_url.url");
}

core::chat_request request_of(std::vector<core::message_part> parts) {
    core::chat_request r;
    r.messages.push_back(core::message{core::role::user, std::move(parts), {}, {}, {}});
    return r;
}

// Every fetch goes to a loopback store that the test owns; the resolver is
// a table, so nothing leaves the process.
class MediaGateTest : public ::testing::Test {
protected:
    MediaGateTest()
        : store_("127.0.0.1"),
          policy_({*cidr::parse("127.0.0.1/32")}, {}),
          fetch_(options(), policy_, names_) {
        names_.set("media.example.com", {{*ip_address::parse("127.0.0.1")}});
    }

    fetch_options options() const {
        fetch_options o;
        o.urls.allowed_ports = {static_cast<uint16_t>(store_.port())};
        return o;
    }

    media_gate gate(media_limits limits = {}) const {
        gate_options o;
        o.limits = limits;
        return media_gate(o, fetch_);
    }

    std::string url(const std::string& path) const {
        return "http://media.example.com:" + std::to_string(store_.port()) + path;
    }

    loopback_http_server store_;
    fake_resolver names_;
    address_policy policy_;
    fetcher fetch_;
};

TEST_F(MediaGateTest, PassesMediaWithinTheLimits) {
    auto request = request_of({inline_part(core::part_kind::image, "image.png", 0),
                               inline_part(core::part_kind::audio, "audio.mp3", 1),
                               inline_part(core::part_kind::video, "video.mp4", 2)});
    auto ok = gate().resolve(request, "req_t");
    ASSERT_TRUE(ok) << ok.error().public_message;
    const auto& parts = request.messages[0].parts;
    EXPECT_EQ(parts[0].format, "png");
    EXPECT_EQ(parts[1].format, "mp3");
    EXPECT_EQ(parts[2].format, "mp4");
    EXPECT_EQ(parts[0].data, fixture("image.png"));
}

TEST_F(MediaGateTest, RefusesAnImageBombNamingThePart) {
    auto request = request_of({inline_part(core::part_kind::image, "image.png", 0),
                               inline_part(core::part_kind::image, "bomb.png", 1)});
    auto ok = gate().resolve(request, "req_t");
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().code, core::error_code::invalid_value);
    EXPECT_EQ(ok.error().public_message,
              "The image at messages[0].content[1] is 100000x100000 pixels; the limit is "
              "50000000 pixels.");
    EXPECT_EQ(ok.error().param, "messages[0].content[1].x_url.url");
}

TEST_F(MediaGateTest, RefusesAudioAndVideoOverTheirLimits) {
    auto audio = request_of({inline_part(core::part_kind::audio, "long.wav", 3)});
    auto refused_audio = gate().resolve(audio, "req_t");
    ASSERT_FALSE(refused_audio);
    EXPECT_EQ(refused_audio.error().public_message,
              "The audio at messages[0].content[3] is 134217.7 seconds long; the limit is 600 "
              "seconds.");

    auto video = request_of({inline_part(core::part_kind::video, "long.mp4", 0)});
    auto refused_video = gate().resolve(video, "req_t");
    ASSERT_FALSE(refused_video);
    EXPECT_TRUE(refused_video.error().public_message.starts_with(
        "The video at messages[0].content[0] is 700"));
}

TEST_F(MediaGateTest, TakesItsLimitsFromItsOptions) {
    media_limits small;
    small.max_image_pixels = 1000;
    small.max_audio_seconds = 0.5;
    auto image = request_of({inline_part(core::part_kind::image, "image.jpg", 0)});
    EXPECT_FALSE(gate(small).resolve(image, "req_t"));
    auto video = request_of({inline_part(core::part_kind::video, "video.avi", 0)});
    auto refused_video = gate(small).resolve(video, "req_t");
    ASSERT_FALSE(refused_video);
    EXPECT_EQ(refused_video.error().public_message,
              "The video at messages[0].content[0] has frames of 64x48 pixels; the limit is 1000 "
              "pixels.");
    auto audio = request_of({inline_part(core::part_kind::audio, "audio.flac", 0)});
    EXPECT_FALSE(gate(small).resolve(audio, "req_t"));
}

TEST_F(MediaGateTest, RefusesUndecodableContent) {
    auto image = request_of({inline_part(core::part_kind::image, "truncated.png", 0)});
    auto refused_image = gate().resolve(image, "req_t");
    ASSERT_FALSE(refused_image);
    EXPECT_EQ(refused_image.error().public_message,
              "The image at messages[0].content[0] could not be decoded: the PNG data is "
              "truncated or garbled.");

    auto video = request_of({inline_part(core::part_kind::video, "audio_only.mkv", 0)});
    auto refused_video = gate().resolve(video, "req_t");
    ASSERT_FALSE(refused_video);
    EXPECT_EQ(refused_video.error().public_message,
              "The video at messages[0].content[0] could not be decoded: it has no video stream.");

    auto mismatched = request_of({inline_part(core::part_kind::audio, "mismatched.mp3", 0)});
    EXPECT_FALSE(gate().resolve(mismatched, "req_t"));
}

// A fetched part is refused for its content like an inline one: the answer
// is about the bytes, which reveals nothing of the network, and it names
// neither the URL nor the host.
TEST_F(MediaGateTest, RefusesFetchedContentWithoutNamingTheUrl) {
    store_.route("/secret/bomb.png", loopback_http_server::response(200, "", fixture("bomb.png")));
    auto request = request_of({part(core::part_kind::image, url("/secret/bomb.png"),
                                    "messages[1].content[0].image_url.url")});
    auto ok = gate().resolve(request, "req_t");
    ASSERT_FALSE(ok);
    EXPECT_EQ(store_.requests(), 1);
    EXPECT_EQ(ok.error().public_message,
              "The image at messages[1].content[0] is 100000x100000 pixels; the limit is "
              "50000000 pixels.");
    EXPECT_EQ(ok.error().public_message.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace osprey::media
