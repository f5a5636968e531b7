// The engine with a real projector: the tiny random gemma3 text model that
// tools/ generates, paired with the shared gemma3 vision projector, and with
// a generated audio projector.

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/model.hpp"
#include "engine/prompt.hpp"
#include "recording_sink.hpp"

namespace osprey::engine {
namespace {

// A 24-bit BMP, written by hand: one of the formats mtmd decodes itself.
std::string bmp_file(uint32_t width, uint32_t height, uint8_t shade) {
    const uint32_t row = (width * 3 + 3) & ~3u;
    const uint32_t size = 54 + row * height;
    std::string out(size, '\0');
    auto put = [&](size_t at, uint32_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
        }
    };
    out[0] = 'B';
    out[1] = 'M';
    put(2, size, 4);
    put(10, 54, 4);
    put(14, 40, 4);
    put(18, width, 4);
    put(22, height, 4);
    put(26, 1, 2);
    put(28, 24, 2);
    for (uint32_t y = 0; y < height; ++y) {
        for (uint32_t x = 0; x < width * 3; ++x) {
            out[54 + y * row + x] = static_cast<char>(shade + x + y);
        }
    }
    return out;
}

// One second of a 440 Hz tone as 16-bit mono WAV at 16 kHz.
std::string wav_file(double seconds) {
    const uint32_t rate = 16000;
    const auto n = static_cast<uint32_t>(seconds * rate);
    std::string out(44 + n * 2, '\0');
    auto put = [&](size_t at, uint32_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
        }
    };
    std::memcpy(out.data(), "RIFF", 4);
    put(4, 36 + n * 2, 4);
    std::memcpy(out.data() + 8, "WAVEfmt ", 8);
    put(16, 16, 4);
    put(20, 1, 2);
    put(22, 1, 2);
    put(24, rate, 4);
    put(28, rate * 2, 4);
    put(32, 2, 2);
    put(34, 16, 2);
    std::memcpy(out.data() + 36, "data", 4);
    put(40, n * 2, 4);
    for (uint32_t i = 0; i < n; ++i) {
        const auto v = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440 * i / rate));
        put(44 + i * 2, static_cast<uint16_t>(v), 2);
    }
    return out;
}

media_input image_file(const std::string& bytes, uint32_t w, uint32_t h) {
    media_input in;
    in.file = bytes;
    in.width = w;
    in.height = h;
    in.param = "messages[0].content[1].image_url.url";
    return in;
}

media_input image_pixels(uint32_t w, uint32_t h, uint8_t shade) {
    media_input in;
    in.width = w;
    in.height = h;
    in.rgb.assign(size_t{w} * h * 3, shade);
    return in;
}

// A user message of text then one media part per input, and each input's
// expansion.
core::chat_request media_request(const std::vector<media_input>& inputs,
                                 std::vector<media_expansion>& media) {
    core::chat_request r;
    core::message m;
    m.parts.push_back({core::part_kind::text, "What is this?", {}, {}, {}, {}});
    for (const auto& in : inputs) {
        const auto kind =
            in.kind == media_input::type::audio ? core::part_kind::audio : core::part_kind::image;
        m.parts.push_back({kind, {}, {}, {}, {}, in.param});
        media.push_back({{{}, in}});
    }
    r.messages.push_back(std::move(m));
    r.max_tokens = 4;
    return r;
}

std::unique_ptr<engine> load_engine(const std::string& mmproj, int32_t batch_size = 512) {
    initialize_backend();
    model_options o;
    o.model_path = OSPREY_TEST_GEMMA3;
    o.mmproj_path = mmproj;
    o.ctx_size = 1024;
    o.parallel = 2;
    o.threads = 2;
    o.batch_size = batch_size;
    auto m = model::load(o, nullptr);
    EXPECT_TRUE(m) << m.error().internal_detail;
    return m ? std::make_unique<engine>(std::move(*m), 8) : nullptr;
}

// Submits a prepared prompt and waits for its one choice to finish.
std::vector<core::choice_finished> run(engine& e, prompt p) {
    auto sink = std::make_shared<recording_sink>(1);
    generation_job job;
    job.request_id = "req_test";
    job.prompt = std::move(p);
    job.max_tokens = 4;
    job.sampling.temperature = 0.0f;
    job.sink = sink;
    EXPECT_TRUE(e.submit(std::move(job)));
    EXPECT_TRUE(sink->wait_finished(1));
    return sink->finished();
}

class VisionTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { engine_ = load_engine(OSPREY_VISION_MMPROJ).release(); }
    static void TearDownTestSuite() {
        delete engine_;
        engine_ = nullptr;
    }
    static const model& loaded() { return engine_->loaded_model(); }
    static engine* engine_;
};

engine* VisionTest::engine_ = nullptr;

TEST_F(VisionTest, TheProjectorTakesImagesOnly) {
    ASSERT_NE(engine_, nullptr);
    EXPECT_TRUE(loaded().info().has_vision);
    EXPECT_FALSE(loaded().info().has_audio);
}

TEST_F(VisionTest, AnImageBecomesAMediaChunkBetweenTextTokens) {
    std::vector<media_expansion> media;
    const auto r = media_request({image_pixels(64, 48, 90)}, media);
    auto p = prepare_prompt(loaded(), r, media);
    ASSERT_TRUE(p) << p.error().internal_detail;
    ASSERT_EQ(p->media.size(), 1u);
    EXPECT_GT(p->media[0].n_tokens, 0);
    EXPECT_GT(p->media[0].at, 0u);
    EXPECT_LT(p->media[0].at, p->tokens.size());
    EXPECT_EQ(p->n_tokens(), p->tokens.size() + static_cast<size_t>(p->media[0].n_tokens));
}

TEST_F(VisionTest, GeneratesAfterAnImageAndCountsItsTokens) {
    std::vector<media_expansion> media;
    const auto r = media_request({image_file(bmp_file(40, 30, 7), 40, 30)}, media);
    auto p = prepare_prompt(loaded(), r, media);
    ASSERT_TRUE(p) << p.error().internal_detail;
    const auto expected_prompt = static_cast<int32_t>(p->n_tokens());
    const auto finished = run(*engine_, std::move(*p));
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].prompt_tokens, expected_prompt);
    EXPECT_GT(finished[0].completion_tokens, 0);
}

// The same image twice in one request, then again in the next turn: it is
// decoded and encoded once, and the next request does neither.
TEST_F(VisionTest, TheSameImageIsEncodedOnce) {
    const std::string bytes = bmp_file(36, 36, 50);
    std::vector<media_expansion> media;
    const auto r = media_request({image_file(bytes, 36, 36), image_file(bytes, 36, 36)}, media);
    const auto encodes = loaded().media_encodes();
    const auto decodes = loaded().media_decodes();
    auto p = prepare_prompt(loaded(), r, media);
    ASSERT_TRUE(p) << p.error().internal_detail;
    ASSERT_EQ(p->media.size(), 2u);
    EXPECT_EQ(loaded().media_decodes(), decodes + 1);
    EXPECT_EQ(loaded().media_encodes(), encodes + 1);
    EXPECT_EQ(p->media[0].cached, p->media[1].cached);
    run(*engine_, std::move(*p));

    auto again = prepare_prompt(loaded(), r, media);
    ASSERT_TRUE(again);
    EXPECT_EQ(loaded().media_decodes(), decodes + 1);
    EXPECT_EQ(loaded().media_encodes(), encodes + 1);
    const auto finished = run(*engine_, std::move(*again));
    ASSERT_EQ(finished.size(), 1u);

    // Any other bytes are another image, decoded and encoded anew.
    std::vector<media_expansion> other_media;
    const auto other = media_request({image_file(bmp_file(36, 36, 51), 36, 36)}, other_media);
    ASSERT_TRUE(prepare_prompt(loaded(), other, other_media));
    EXPECT_EQ(loaded().media_decodes(), decodes + 2);
    EXPECT_EQ(loaded().media_encodes(), encodes + 2);
}

TEST_F(VisionTest, AFileMtmdCannotDecodeIsInvalidValueNamingThePart) {
    std::vector<media_expansion> media;
    const auto r = media_request({image_file("neither BMP nor PNG nor anything", 16, 16)}, media);
    auto p = prepare_prompt(loaded(), r, media);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, core::error_code::invalid_value);
    EXPECT_EQ(p.error().param, "messages[0].content[1].image_url.url");
}

// gemma3's image tokens attend to each other both ways, so all 256 must be
// decoded in one step: a smaller batch is refused before the answer starts,
// not failed in the middle of it.
TEST(SmallBatchTest, AnImageLargerThanTheBatchIsRefusedUpFront) {
    auto e = load_engine(OSPREY_VISION_MMPROJ, 128);
    ASSERT_NE(e, nullptr);
    std::vector<media_expansion> media;
    const auto r = media_request({image_pixels(32, 32, 3)}, media);
    media[0][0].media->param = "messages[0].content[1].image_url.url";
    auto p = prepare_prompt(e->loaded_model(), r, media);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, core::error_code::invalid_value);
    EXPECT_EQ(p.error().param, "messages[0].content[1].image_url.url");
    EXPECT_NE(p.error().public_message.find("--batch-size"), std::string::npos);
}

TEST(AudioTest, AudioBecomesMediaChunksAndGenerates) {
    auto e = load_engine(OSPREY_TEST_AUDIO_MMPROJ);
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(e->loaded_model().info().has_audio);
    EXPECT_FALSE(e->loaded_model().info().has_vision);

    media_input in;
    in.kind = media_input::type::audio;
    in.file = wav_file(1.5);
    std::vector<media_expansion> media;
    const auto r = media_request({in}, media);
    auto p = prepare_prompt(e->loaded_model(), r, media);
    ASSERT_TRUE(p) << p.error().internal_detail;
    ASSERT_GE(p->media.size(), 1u);
    const auto expected_prompt = static_cast<int32_t>(p->n_tokens());
    EXPECT_GT(p->n_tokens(), p->tokens.size());
    const auto finished = run(*e, std::move(*p));
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].prompt_tokens, expected_prompt);
}

}  // namespace
}  // namespace osprey::engine
