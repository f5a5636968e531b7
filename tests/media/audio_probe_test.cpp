#include "media/audio_probe.hpp"

#include <gtest/gtest.h>

#include <random>

#include "fixture_files.hpp"

namespace osprey::media {
namespace {

using osprey::testing::fixture;

const media_limits defaults;

std::string refusal(std::string_view bytes, const media_limits& limits = defaults) {
    auto info = probe_audio(bytes, limits);
    EXPECT_FALSE(info) << "accepted, " << info->seconds << " seconds";
    if (info) {
        return {};
    }
    EXPECT_EQ(info.error().code, core::error_code::invalid_value);
    return info.error().public_message;
}

// Random bytes that never contain an MPEG frame sync (0xff).
std::string noise(std::size_t n, unsigned seed) {
    std::mt19937 random(seed);
    std::string bytes(n, '\0');
    for (auto& c : bytes) {
        c = static_cast<char>(random() % 255);
    }
    return bytes;
}

// The MPEG frames of audio.mp3, without its ID3 tag.
std::string mp3_frames() {
    const std::string mp3 = fixture("audio.mp3");
    const auto first = mp3.find("\xff\xf3");  // MPEG-2 layer III, no CRC
    EXPECT_NE(first, std::string::npos);
    return mp3.substr(first);
}

TEST(ProbeAudio, ReadsHowLongEachFormatLasts) {
    auto wav = probe_audio(fixture("audio.wav"), defaults);
    ASSERT_TRUE(wav) << wav.error().public_message;
    EXPECT_EQ(wav->format, media_format::wav);
    EXPECT_DOUBLE_EQ(wav->seconds, 1.0);

    auto flac = probe_audio(fixture("audio.flac"), defaults);
    ASSERT_TRUE(flac) << flac.error().public_message;
    EXPECT_EQ(flac->format, media_format::flac);
    EXPECT_DOUBLE_EQ(flac->seconds, 1.0);

    // LAME pads both ends by up to a frame or two (36 ms each at 16 kHz).
    auto mp3 = probe_audio(fixture("audio.mp3"), defaults);
    ASSERT_TRUE(mp3) << mp3.error().public_message;
    EXPECT_EQ(mp3->format, media_format::mp3);
    EXPECT_NEAR(mp3->seconds, 2.0, 0.15);
}

TEST(ProbeAudio, TakesAWavHeaderAtItsWord) {
    EXPECT_EQ(refusal(fixture("long.wav")),
              "The audio is 134217.7 seconds long; the limit is 600 seconds.");
}

TEST(ProbeAudio, TheLimitIsTheOptionsOwn) {
    media_limits short_limit;
    short_limit.max_audio_seconds = 0.5;
    const char* expected = "The audio is 1 seconds long; the limit is 0.5 seconds.";
    EXPECT_EQ(refusal(fixture("audio.wav"), short_limit), expected);
    EXPECT_EQ(refusal(fixture("audio.flac"), short_limit), expected);
    EXPECT_TRUE(refusal(fixture("audio.mp3"), short_limit).starts_with("The audio is 0."));
}

TEST(ProbeAudio, RefusesWhatIsNotWavMp3OrFlac) {
    const char* expected = "The audio could not be decoded: its bytes are not WAV, MP3 or FLAC.";
    EXPECT_EQ(refusal(fixture("mismatched.mp3")), expected);
    EXPECT_EQ(refusal(""), expected);
    EXPECT_EQ(refusal("OggS" + noise(100, 1)),
              "The audio is Ogg, which this server does not decode; send WAV, MP3 or FLAC.");
}

TEST(ProbeAudio, RefusesAnMp3WithoutFrames) {
    const char* expected =
        "The audio could not be decoded: the MP3 data has no valid MPEG audio frames.";
    // An ID3 tag, then noise; a lone frame sync, then noise.
    EXPECT_EQ(refusal(std::string("ID3\x04\0\0\0\0\0\x10", 10) + noise(4000, 2)), expected);
    EXPECT_EQ(refusal("\xff\xfb\x90\x64" + noise(4000, 3)), expected);
    EXPECT_EQ(refusal(std::string("ID3\x04\0\0\0\x7f\x7f", 10)),
              "The audio could not be decoded: the MP3 file's ID3 tag is truncated or garbled.");
}

// Junk between frames must not hide length: decoders resynchronise over it,
// so the count does too.
TEST(ProbeAudio, CountsMp3FramesAcrossGarbage) {
    const std::string frames = mp3_frames();
    const std::string mp3 = fixture("audio.mp3");
    auto whole = probe_audio(mp3, defaults);
    ASSERT_TRUE(whole);

    std::string damaged =
        frames.substr(0, frames.size() / 2) + noise(333, 4) + frames.substr(frames.size() / 2);
    auto resynced = probe_audio(damaged, defaults);
    ASSERT_TRUE(resynced) << resynced.error().public_message;
    EXPECT_NEAR(resynced->seconds, whole->seconds, 0.1);

    std::string many;
    for (int i = 0; i < 10; ++i) {
        many += frames + noise(57, 5 + i);
    }
    media_limits limit;
    limit.max_audio_seconds = 15;
    EXPECT_TRUE(refusal(many, limit).starts_with("The audio is 1"));
}

TEST(ProbeAudio, RefusesBrokenWavHeaders) {
    const std::string wav = fixture("audio.wav");
    EXPECT_EQ(refusal(wav.substr(0, 30)),
              "The audio could not be decoded: the WAV format chunk is truncated or garbled.");
    EXPECT_EQ(refusal(wav.substr(0, 36)),
              "The audio could not be decoded: the WAV file has no data chunk.");
    std::string silent = wav;
    silent[40] = silent[41] = silent[42] = silent[43] = 0;  // data size 0
    EXPECT_EQ(refusal(silent), "The audio could not be decoded: the file has no audio data.");
    std::string no_rate = wav;
    no_rate[24] = no_rate[25] = no_rate[26] = no_rate[27] = 0;  // sample rate 0
    EXPECT_FALSE(probe_audio(no_rate, defaults));
}

// A WAV header written field by field, for headers no encoder would write.
std::string wav_header(uint16_t tag, uint16_t channels, uint32_t rate, uint32_t byte_rate,
                       uint16_t block_align, uint16_t bits, uint32_t data_bytes) {
    static constexpr char head[] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0";
    std::string out(head, sizeof head - 1);
    auto put = [&](uint32_t v, int n) {
        for (int i = 0; i < n; ++i) {
            out += static_cast<char>((v >> (8 * i)) & 0xff);
        }
    };
    put(tag, 2);
    put(channels, 2);
    put(rate, 4);
    put(byte_rate, 4);
    put(block_align, 2);
    put(bits, 2);
    out += "data";
    put(data_bytes, 4);
    return out + std::string(data_bytes, '\x80');
}

// Regression: an 8 KB ADPCM WAV with a block align smaller than its header
// made miniaudio's frame count underflow, and the server died allocating
// for it. Only plain sample codings pass.
TEST(ProbeAudio, RefusesCompressedWav) {
    for (uint16_t tag : {2, 0x11, 0x55}) {
        EXPECT_EQ(refusal(wav_header(tag, 1, 8000, 8000, 1, 4, 8000)),
                  "The audio could not be decoded: the WAV file is compressed or in a sample "
                  "format this server does not take.")
            << tag;
    }
    EXPECT_TRUE(probe_audio(wav_header(3, 1, 16000, 64000, 4, 32, 6400), defaults));
    EXPECT_TRUE(probe_audio(wav_header(6, 2, 8000, 16000, 2, 8, 1600), defaults));
}

// Regression: the length was the data size over the header's byte rate,
// which a header could set to 4 GB/s while its 1 Hz sample rate made the
// decoder produce hours of audio from a 10 KB file.
TEST(ProbeAudio, RefusesAByteRateThatDisagreesWithTheSampleFormat) {
    const std::string expected =
        "The audio could not be decoded: the WAV format chunk is truncated or garbled.";
    EXPECT_EQ(refusal(wav_header(1, 1, 1, 0xffffffff, 1, 8, 10000)), expected);
    EXPECT_EQ(refusal(wav_header(1, 1, 16000, 0xffffffff, 2, 16, 10000)), expected);
    EXPECT_EQ(refusal(wav_header(1, 2, 16000, 64000, 1, 16, 10000)), expected);
    EXPECT_EQ(refusal(wav_header(1, 1, 50, 50, 1, 8, 100)), expected);
    auto honest = probe_audio(wav_header(1, 2, 16000, 64000, 4, 16, 32000), defaults);
    ASSERT_TRUE(honest);
    EXPECT_DOUBLE_EQ(honest->seconds, 0.5);
}

TEST(ProbeAudio, ReportsTheWavAudioActuallyPresent) {
    const std::string wav = fixture("audio.wav");
    auto half = probe_audio(wav.substr(0, 44 + 16000), defaults);
    ASSERT_TRUE(half) << half.error().public_message;
    EXPECT_DOUBLE_EQ(half->seconds, 0.5);
}

TEST(ProbeAudio, RefusesBrokenFlac) {
    const std::string flac = fixture("audio.flac");
    std::string unknown_length = flac;
    for (int i = 21; i < 26; ++i) {
        unknown_length[i] = static_cast<char>(unknown_length[i] & (i == 21 ? 0xf0 : 0));
    }
    EXPECT_EQ(refusal(unknown_length),
              "The audio could not be decoded: the FLAC header does not give its length.");
    EXPECT_EQ(refusal(flac.substr(0, 30)),
              "The audio could not be decoded: the FLAC header is truncated or garbled.");
    EXPECT_EQ(refusal(flac.substr(0, 42)),
              "The audio could not be decoded: the FLAC data is truncated or garbled.");
}

TEST(ProbeAudio, SurvivesRandomDamage) {
    std::mt19937 random(7);
    for (const char* file : {"audio.wav", "audio.mp3", "audio.flac"}) {
        const std::string original = fixture(file);
        for (int round = 0; round < 200; ++round) {
            std::string bytes = original.substr(0, random() % original.size());
            for (int i = 0; i < 4 && !bytes.empty(); ++i) {
                bytes[random() % bytes.size()] = static_cast<char>(random());
            }
            (void)probe_audio(bytes, defaults);
        }
    }
    SUCCEED();
}

}  // namespace
}  // namespace osprey::media
