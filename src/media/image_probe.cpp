#include "media/image_probe.hpp"

#include <webp/decode.h>

#include <array>
#include <optional>
#include <string>

#include <zlib.h>

#include "media/byte_order.hpp"
#include "media/media_error.hpp"

namespace osprey::media {

namespace {

using namespace bytes;

constexpr auto image = media_kind::image;

core::unexpected bad(std::string_view reason, std::string detail = {}) {
    return core::unexpected(undecodable(image, reason, std::move(detail)));
}

const char* label(media_format f) {
    switch (f) {
    case media_format::png: return "PNG";
    case media_format::jpeg: return "JPEG";
    case media_format::gif: return "GIF";
    case media_format::bmp: return "BMP";
    default: return "WebP";
    }
}

core::expected<image_info> sized(media_format f, uint64_t width, uint64_t height,
                                 const media_limits& limits) {
    if (width == 0 || height == 0 || width > UINT32_MAX || height > UINT32_MAX) {
        return bad(std::string("the ") + label(f) + " header gives an impossible size",
                   "width=" + std::to_string(width) + " height=" + std::to_string(height));
    }
    if (width * height > limits.max_image_pixels) {
        return core::unexpected(
            refused(image, "is " + std::to_string(width) + "x" + std::to_string(height) +
                               " pixels; the limit is " + std::to_string(limits.max_image_pixels) +
                               " pixels"));
    }
    return image_info{f, static_cast<uint32_t>(width), static_cast<uint32_t>(height)};
}

// Chunks from the signature to IEND, each one whole, with image data between.
bool png_chunks_complete(std::string_view b) {
    bool has_data = false;
    for (uint64_t at = 8; fits(b, at, 8);) {
        const uint64_t length = be32(b, at);
        const std::string_view type = b.substr(at + 4, 4);
        if (length > INT32_MAX || !fits(b, at + 8, length + 4)) {
            return false;
        }
        if (type == "IEND") {
            return has_data;
        }
        has_data = has_data || type == "IDAT";
        at += 12 + length;
    }
    return false;
}

// The bit depths that the PNG specification allows for each colour type.
bool png_depth_valid(uint32_t colour, uint32_t depth) {
    const bool small = depth == 1 || depth == 2 || depth == 4;
    switch (colour) {
    case 0: return small || depth == 8 || depth == 16;  // grey
    case 3: return small || depth == 8;                 // palette
    case 2:                                             // RGB
    case 4:                                             // grey and alpha
    case 6: return depth == 8 || depth == 16;           // RGBA
    default: return false;
    }
}

// What a PNG's pixels inflate to, a filter byte before each row; for an
// interlaced image, summed over the seven Adam7 passes.
uint64_t png_raw_bytes(uint64_t w, uint64_t h, uint32_t depth, uint32_t colour, bool interlaced) {
    const uint64_t channels = colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
    auto rows = [&](uint64_t width, uint64_t height) {
        return width == 0 || height == 0 ? 0 : height * (1 + (width * channels * depth + 7) / 8);
    };
    if (!interlaced) {
        return rows(w, h);
    }
    static constexpr uint64_t passes[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8},
                                              {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2},
                                              {0, 1, 1, 2}};
    uint64_t total = 0;
    for (const auto& p : passes) {
        const uint64_t pw = w > p[0] ? (w - p[0] + p[2] - 1) / p[2] : 0;
        const uint64_t ph = h > p[1] ? (h - p[1] + p[3] - 1) / p[3] : 0;
        total += rows(pw, ph);
    }
    return total;
}

// Inflates the image data, stopping as soon as it passes `limit` bytes. A
// decoder inflates all of it before looking at its size, so a 2 MB file of
// deflated zeros with a 1x1 header would cost it 2 GB of memory.
bool png_inflates_within(std::string_view b, uint64_t limit) {
    z_stream z{};
    if (inflateInit(&z) != Z_OK) {
        return false;
    }
    std::array<unsigned char, 1 << 16> out;
    uint64_t total = 0;
    int rc = Z_OK;
    // Only the chunks before IEND, which png_chunks_complete has seen whole:
    // bytes after IEND may claim any length.
    for (uint64_t at = 8; rc == Z_OK && fits(b, at, 8); at += 12 + be32(b, at)) {
        const std::string_view type = b.substr(at + 4, 4);
        if (type == "IEND" || !fits(b, at + 8, be32(b, at))) {
            break;
        }
        if (type != "IDAT") {
            continue;
        }
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data() + at + 8));
        z.avail_in = be32(b, at);
        while (rc == Z_OK && z.avail_in > 0 && total <= limit) {
            z.next_out = out.data();
            z.avail_out = out.size();
            rc = inflate(&z, Z_NO_FLUSH);
            total += out.size() - z.avail_out;
        }
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END && total == limit;
}

core::expected<image_info> probe_png(std::string_view b, const media_limits& limits) {
    // Signature, then IHDR: length 13, width, height, bit depth, colour type.
    if (!fits(b, 0, 33) || be32(b, 8) != 13 || b.substr(12, 4) != "IHDR") {
        return bad("the PNG header is truncated or garbled");
    }
    auto info = sized(media_format::png, be32(b, 16), be32(b, 20), limits);
    if (!info) {
        return info;
    }
    const uint32_t depth = u8(b, 24);
    const uint32_t colour = u8(b, 25);
    if (!png_depth_valid(colour, depth)) {
        return bad("the PNG header is truncated or garbled",
                   "depth=" + std::to_string(depth) + " colour=" + std::to_string(colour));
    }
    if (!png_chunks_complete(b)) {
        return bad("the PNG data is truncated or garbled");
    }
    const uint64_t raw = png_raw_bytes(info->width, info->height, depth, colour, u8(b, 28) == 1);
    if (!png_inflates_within(b, raw)) {
        return bad("the PNG's compressed data does not hold exactly its pixels",
                   "expected_bytes=" + std::to_string(raw));
    }
    return info;
}

// Baseline, extended and progressive Huffman JPEG; the other frame types
// (lossless, arithmetic, hierarchical) are rare and most decoders lack them.
bool jpeg_start_of_frame(uint32_t marker) {
    return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
}

// Markers that stand alone, without a length: TEM and the restart markers.
bool jpeg_standalone(uint32_t marker) {
    return marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

// The marker at `at`, after any fill bytes; `at` moves past it.
std::optional<uint32_t> jpeg_marker(std::string_view b, uint64_t& at) {
    if (!fits(b, at, 2) || u8(b, at) != 0xff) {
        return std::nullopt;
    }
    while (fits(b, at + 2, 1) && u8(b, at + 1) == 0xff) {
        ++at;
    }
    const uint32_t marker = u8(b, at + 1);
    at += 2;
    return marker;
}

// A frame header: length, precision, height, width, components.
core::expected<image_info> jpeg_frame(std::string_view b, uint64_t at, uint32_t marker,
                                      const media_limits& limits) {
    if (be16(b, at) < 8) {
        return bad("the JPEG header is truncated or garbled");
    }
    auto info = sized(media_format::jpeg, be16(b, at + 5), be16(b, at + 3), limits);
    if (info && marker > 0xc2) {
        return core::unexpected(refused(image,
                                        "uses a JPEG coding (lossless, arithmetic or "
                                        "hierarchical) that this server does not decode"));
    }
    return info;
}

// A progressive JPEG may hold many scans, each of which makes a decoder walk
// the whole image again: ten thousand near-empty scans in under a megabyte
// cost a minute of CPU. Real encoders write about ten.
constexpr size_t max_jpeg_scans = 64;

// Counts the start-of-scan markers from the first scan on: inside scan data a
// 0xff byte is always stuffed or starts a marker, so each 0xff 0xda is one.
core::expected<void> check_jpeg_scans(std::string_view b, uint64_t at) {
    size_t scans = 1;
    for (size_t pos = b.find("\xff\xda", at); pos != std::string_view::npos;
         pos = b.find("\xff\xda", pos + 2)) {
        if (++scans > max_jpeg_scans) {
            return core::unexpected(refused(image, "has more than " +
                                                       std::to_string(max_jpeg_scans) +
                                                       " JPEG scans; this server decodes fewer"));
        }
    }
    return {};
}

// Walks the segments to the first scan, reading the size from the frame
// header on the way, then looks for the end marker: inside scan data a 0xff
// byte is always stuffed or starts a restart marker, so the first 0xff 0xd9
// there is the real end, and a file without one was cut short.
core::expected<image_info> probe_jpeg(std::string_view b, const media_limits& limits) {
    std::optional<image_info> frame;
    for (uint64_t at = 2;;) {
        const auto marker = jpeg_marker(b, at);
        if (marker && jpeg_standalone(*marker)) {
            continue;
        }
        // Every other marker opens a segment whose length counts itself.
        if (!marker || *marker == 0x00 || *marker == 0xd8 || *marker == 0xd9 || !fits(b, at, 2) ||
            be16(b, at) < 2 || !fits(b, at, be16(b, at))) {
            return bad("the JPEG header is truncated or garbled");
        }
        if (jpeg_start_of_frame(*marker) && !frame) {
            auto info = jpeg_frame(b, at, *marker, limits);
            if (!info) {
                return info;
            }
            frame = *info;
        }
        if (*marker == 0xda) {
            if (!frame || b.find("\xff\xd9", at) == std::string_view::npos) {
                return bad("the JPEG data is truncated or garbled");
            }
            if (auto ok = check_jpeg_scans(b, at); !ok) {
                return core::unexpected(ok.error());
            }
            return *frame;
        }
        at += be16(b, at);
    }
}

// Sub-blocks: a length byte, that many bytes, until a zero length.
bool skip_gif_blocks(std::string_view b, uint64_t& at) {
    while (fits(b, at, 1)) {
        const uint32_t n = u8(b, at);
        at += 1 + n;
        if (n == 0) {
            return true;
        }
    }
    return false;
}

// An image descriptor (position, size, flags), its colour table, the LZW
// code size and the data. A frame outside the logical screen is corrupt.
bool skip_gif_image(std::string_view b, uint64_t& at, const image_info& screen) {
    if (!fits(b, at, 10) || le16(b, at) + le16(b, at + 4) > screen.width ||
        le16(b, at + 2) + le16(b, at + 6) > screen.height) {
        return false;
    }
    const uint32_t flags = u8(b, at + 8);
    at += 9 + ((flags & 0x80) ? 3u << ((flags & 7) + 1) : 0);
    return fits(b, at, 1) && skip_gif_blocks(b, ++at);
}

// Blocks until the trailer. A file that ends cleanly after a whole image
// without one is common enough to accept.
bool gif_blocks_complete(std::string_view b, uint64_t at, const image_info& screen) {
    int images = 0;
    while (fits(b, at, 1) && u8(b, at) != 0x3b) {
        const uint32_t introducer = u8(b, at++);
        if (introducer == 0x2c && skip_gif_image(b, at, screen)) {
            ++images;
        } else if (introducer != 0x21 || !fits(b, at, 1) || !skip_gif_blocks(b, ++at)) {
            return false;
        }
    }
    return images > 0;
}

core::expected<image_info> probe_gif(std::string_view b, const media_limits& limits) {
    if (!fits(b, 0, 13)) {
        return bad("the GIF header is truncated or garbled");
    }
    auto info = sized(media_format::gif, le16(b, 6), le16(b, 8), limits);
    if (!info) {
        return info;
    }
    const uint32_t flags = u8(b, 10);
    const uint64_t at = 13 + ((flags & 0x80) ? 3u << ((flags & 7) + 1) : 0);
    if (!gif_blocks_complete(b, at, *info)) {
        return bad("the GIF data is truncated or garbled");
    }
    return info;
}

core::expected<image_info> probe_bmp(std::string_view b, const media_limits& limits) {
    const uint32_t header = fits(b, 0, 18) ? le32(b, 14) : 0;
    if (!(header == 12 && fits(b, 0, 26)) && !(header >= 40 && fits(b, 0, 14 + 40))) {
        return bad("the BMP header is truncated or garbled");
    }
    const bool core_header = header == 12;  // OS/2: 16-bit unsigned sizes
    const int64_t width = core_header ? int64_t{le16(b, 18)} : int32_t(le32(b, 18));
    const int64_t height = core_header ? int64_t{le16(b, 20)} : int32_t(le32(b, 22));
    // A negative height means rows run top-down; the size is its magnitude.
    auto info =
        sized(media_format::bmp, width < 0 ? 0 : width, height < 0 ? -height : height, limits);
    if (!info) {
        return info;
    }
    const uint32_t bits = core_header ? le16(b, 24) : le16(b, 28);
    const uint32_t compression = core_header ? 0 : le32(b, 30);
    if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
        return bad("the BMP header is truncated or garbled", "bits=" + std::to_string(bits));
    }
    if (compression != 0 && compression != 3) {
        return core::unexpected(refused(image,
                                        "uses a BMP compression that this server does "
                                        "not decode"));
    }
    // Rows are padded to four bytes; all of them must be there.
    const uint64_t row = (uint64_t{info->width} * bits + 31) / 32 * 4;
    const uint64_t offset = le32(b, 10);
    if (offset > b.size() || info->height > (b.size() - offset) / row) {
        return bad("the BMP data is truncated");
    }
    return info;
}

core::expected<image_info> probe_webp(std::string_view b, const media_limits& limits) {
    WebPBitstreamFeatures features;
    const auto* data = reinterpret_cast<const uint8_t*>(b.data());
    const VP8StatusCode status = WebPGetFeatures(data, b.size(), &features);
    if (status != VP8_STATUS_OK) {
        return bad("the WebP header is truncated or garbled",
                   "vp8_status=" + std::to_string(status));
    }
    // The RIFF size covers everything after its own field.
    if (!fits(b, 0, 12) || uint64_t{le32(b, 4)} + 8 > b.size()) {
        return bad("the WebP data is truncated");
    }
    auto info = sized(media_format::webp, features.width, features.height, limits);
    if (info && features.has_animation) {
        return core::unexpected(refused(image,
                                        "is an animated WebP, which this server does "
                                        "not decode"));
    }
    return info;
}

}  // namespace

core::expected<image_info> probe_image(std::string_view bytes, const media_limits& limits) {
    switch (sniff_format(bytes)) {
    case media_format::png: return probe_png(bytes, limits);
    case media_format::jpeg: return probe_jpeg(bytes, limits);
    case media_format::gif: return probe_gif(bytes, limits);
    case media_format::bmp: return probe_bmp(bytes, limits);
    case media_format::webp: return probe_webp(bytes, limits);
    default: return bad("its bytes are not PNG, JPEG, GIF, BMP or WebP");
    }
}

}  // namespace osprey::media
