#include <webp/encode.h>

#include "fixture_encoding.hpp"
#include "media_fixtures.hpp"

namespace osprey::testing {

namespace {

void put_be(std::string& out, uint32_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<char>(value >> (8 * i) & 0xff));
    }
}

// PNG's CRC-32 (ISO 3309), bit by bit: a few dozen bytes need no table.
uint32_t crc32(std::string_view bytes) {
    uint32_t crc = 0xffffffff;
    for (const char c : bytes) {
        crc ^= static_cast<unsigned char>(c);
        for (int k = 0; k < 8; ++k) {
            crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
        }
    }
    return crc ^ 0xffffffff;
}

std::string png_chunk(std::string_view type, std::string_view data) {
    std::string chunk;
    put_be(chunk, static_cast<uint32_t>(data.size()), 4);
    std::string body = std::string(type) + std::string(data);
    chunk += body;
    put_be(chunk, crc32(body), 4);
    return chunk;
}

// One still through libavcodec's encoder for `id`, from the pattern.
core::expected<std::string> encode_still(AVCodecID id, AVPixelFormat format) {
    auto encoder = open_video_encoder(id, format, AVRational{1, 1});
    if (!encoder) {
        return core::unexpected(encoder.error());
    }
    auto frame = pattern_frame(format);
    if (!frame) {
        return core::unexpected(frame.error());
    }
    (*frame)->pts = 0;
    (*frame)->quality = (*encoder)->global_quality;
    std::string out;
    auto ok = encode_into(encoder->get(), frame->get(), out);
    if (ok) {
        ok = encode_into(encoder->get(), nullptr, out);
    }
    if (!ok) {
        return core::unexpected(ok.error());
    }
    return out;
}

// Lossless, so a test can compare decoded pixels exactly.
core::expected<std::string> encode_webp() {
    const auto rgb = pattern_rgb(fixture_width, fixture_height);
    uint8_t* out = nullptr;
    const std::size_t size =
        WebPEncodeLosslessRGB(rgb.data(), fixture_width, fixture_height, fixture_width * 3, &out);
    if (size == 0) {
        return fixture_error("WebPEncodeLosslessRGB");
    }
    std::string bytes(reinterpret_cast<const char*>(out), size);
    WebPFree(out);
    return bytes;
}

std::string make_gif_bomb() {
    std::string gif = "GIF89a";
    put_le(gif, 65535, 2);
    put_le(gif, 65535, 2);
    gif += std::string("\0\0\0", 3);                       // no colour table
    gif += std::string("\x2c\0\0\0\0\x01\0\x01\0\0", 10);  // a 1x1 frame at 0,0
    gif += std::string("\x02\x02\x4c\x01\0\x3b", 6);       // its data, the trailer
    return gif;
}

std::string make_jpeg_bomb() {
    std::string jpeg = "\xff\xd8\xff\xc0";
    put_be(jpeg, 17, 2);
    jpeg += "\x08\xff\xff\xff\xff\x03";  // 8 bits, 65535x65535, 3 components
    jpeg += std::string("\x01\x22\x00\x02\x11\x00\x03\x11\x00", 9);
    jpeg += "\xff\xda";
    put_be(jpeg, 12, 2);
    jpeg += std::string("\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00", 10);
    jpeg += "\x12\x34\xff\xd9";
    return jpeg;
}

}  // namespace

std::string make_png_header(uint32_t width, uint32_t height) {
    std::string ihdr;
    put_be(ihdr, width, 4);
    put_be(ihdr, height, 4);
    ihdr += std::string("\x08\x02\0\0\0", 5);  // 8-bit RGB, no interlace
    // An empty zlib stream: nothing like the rows the header promises.
    const std::string idat("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
    return "\x89PNG\r\n\x1a\n" + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) +
           png_chunk("IEND", "");
}

std::string make_bmp(int width, int height, bool top_down) {
    const int row = (width * 3 + 3) / 4 * 4;
    const auto data_size = static_cast<uint32_t>(row * height);
    std::string bmp = "BM";
    put_le(bmp, 14 + 40 + data_size, 4);
    put_le(bmp, 0, 4);
    put_le(bmp, 14 + 40, 4);  // pixel data offset
    put_le(bmp, 40, 4);       // BITMAPINFOHEADER
    put_le(bmp, static_cast<uint32_t>(width), 4);
    put_le(bmp, static_cast<uint32_t>(top_down ? -height : height), 4);
    put_le(bmp, 1, 2);   // planes
    put_le(bmp, 24, 2);  // bits per pixel
    put_le(bmp, 0, 4);   // no compression
    put_le(bmp, data_size, 4);
    put_le(bmp, 2835, 4);  // 72 dpi, both ways
    put_le(bmp, 2835, 4);
    put_le(bmp, 0, 4);
    put_le(bmp, 0, 4);
    for (int r = 0; r < height; ++r) {
        const int y = top_down ? r : height - 1 - r;
        for (int x = 0; x < width; ++x) {
            const pixel p = pattern_pixel(x, y);
            bmp += {static_cast<char>(p.b), static_cast<char>(p.g), static_cast<char>(p.r)};
        }
        bmp.append(static_cast<std::size_t>(row - width * 3), '\0');
    }
    return bmp;
}

core::expected<void> write_image_fixtures(const std::filesystem::path& dir) {
    auto png = encode_still(AV_CODEC_ID_PNG, AV_PIX_FMT_RGB24);
    auto jpeg = encode_still(AV_CODEC_ID_MJPEG, AV_PIX_FMT_YUVJ420P);
    // libavcodec's GIF encoder leaves the trailer to the muxer.
    auto gif =
        encode_still(AV_CODEC_ID_GIF, AV_PIX_FMT_RGB8).map([](std::string g) { return g + ";"; });
    auto webp = encode_webp();
    for (const auto* encoded : {&png, &jpeg, &gif, &webp}) {
        if (!*encoded) {
            return core::unexpected(encoded->error());
        }
    }
    const std::pair<const char*, std::string> files[] = {
        {"image.png", *png},
        {"image.jpg", *jpeg},
        {"image.gif", *gif},
        {"image.bmp", make_bmp(fixture_width, fixture_height, false)},
        {"image.webp", *webp},
        {"truncated.png", png->substr(0, png->size() / 2)},
        {"mismatched.mp3", *png},
        {"bomb.png", make_png_header(100000, 100000)},
        {"bomb.gif", make_gif_bomb()},
        {"bomb.jpg", make_jpeg_bomb()},
    };
    for (const auto& [file, bytes] : files) {
        if (auto ok = write_file(dir / file, bytes); !ok) {
            return ok;
        }
    }
    return {};
}

}  // namespace osprey::testing
