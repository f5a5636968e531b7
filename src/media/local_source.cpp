#include "media/local_source.hpp"

#include <array>
#include <filesystem>
#include <fstream>

#include "media/url_policy.hpp"

namespace osprey::media {

namespace {

core::error bad_data_uri(const std::string& what) {
    return core::make_error(core::error_code::invalid_value, "Invalid data URI: " + what);
}

constexpr std::array<int8_t, 256> base64_table() {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i) {
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    }
    return t;
}

// Strict where the decoders at hand are lenient: any byte outside the
// alphabet, a wrong length or misplaced padding is an error, so that what is
// decoded is exactly what the client sent.
core::expected<std::string> decode_base64(std::string_view in) {
    static constexpr auto table = base64_table();
    if (in.size() % 4 != 0) {
        return core::unexpected(bad_data_uri("the base64 payload's length is not a multiple of 4"));
    }
    size_t padding = 0;
    while (padding < 2 && padding < in.size() && in[in.size() - 1 - padding] == '=') {
        ++padding;
    }
    std::string out;
    out.reserve(in.size() / 4 * 3);
    uint32_t acc = 0;
    for (size_t i = 0; i < in.size() - padding; ++i) {
        const int8_t v = table[static_cast<unsigned char>(in[i])];
        if (v < 0) {
            return core::unexpected(bad_data_uri("the payload is not valid base64"));
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        if (i % 4 == 3) {
            out.push_back(static_cast<char>(acc >> 16));
            out.push_back(static_cast<char>(acc >> 8));
            out.push_back(static_cast<char>(acc));
            acc = 0;
        }
    }
    if (padding == 1) {
        acc <<= 6;
        out.push_back(static_cast<char>(acc >> 16));
        out.push_back(static_cast<char>(acc >> 8));
    } else if (padding == 2) {
        acc <<= 12;
        out.push_back(static_cast<char>(acc >> 16));
    }
    return out;
}

}  // namespace

bool is_data_uri(std::string_view s) {
    return s.size() >= 5 && (s.substr(0, 5) == "data:" || s.substr(0, 5) == "DATA:");
}

bool is_local_reference(std::string_view s) {
    return s.rfind("file://", 0) == 0 || s.rfind('/', 0) == 0;
}

core::expected<std::string> decode_data_uri(std::string_view uri, std::size_t max_bytes) {
    const size_t comma = uri.find(',');
    if (!is_data_uri(uri) || comma == std::string_view::npos) {
        return core::unexpected(bad_data_uri("expected data:<type>;base64,<payload>"));
    }
    const std::string_view header = uri.substr(5, comma - 5);
    const std::string_view payload = uri.substr(comma + 1);
    if (header.size() < 7 || header.substr(header.size() - 7) != ";base64") {
        return core::unexpected(bad_data_uri("only base64 payloads are accepted"));
    }
    if (payload.size() / 4 * 3 > max_bytes + 2) {
        return core::unexpected(bad_data_uri("the payload is larger than this server accepts (" +
                                             std::to_string(max_bytes) + " bytes)"));
    }
    auto bytes = decode_base64(payload);
    if (bytes && bytes->size() > max_bytes) {
        return core::unexpected(bad_data_uri("the payload is larger than this server accepts"));
    }
    return bytes;
}

core::expected<std::string> read_under_root(std::string_view location, const std::string& root,
                                            std::size_t max_bytes) {
    namespace fs = std::filesystem;
    if (root.empty()) {
        return core::unexpected(media_refusal("rule=file_disabled"));
    }
    std::string_view path = location;
    if (path.rfind("file://", 0) == 0) {
        path.remove_prefix(7);
    }
    if (path.empty() || path.front() != '/' || path.find("..") != std::string_view::npos ||
        path.find('%') != std::string_view::npos || path.find('?') != std::string_view::npos) {
        return core::unexpected(media_refusal("rule=file_path"));
    }
    std::error_code ec;
    const fs::path canonical_root = fs::canonical(root, ec);
    const fs::path target = fs::canonical(fs::path(std::string(path)), ec);
    if (ec) {
        return core::unexpected(media_refusal("rule=file_missing reason=" + ec.message()));
    }
    // Compared component by component, so /media2 is not inside /media.
    auto [r, t] =
        std::mismatch(canonical_root.begin(), canonical_root.end(), target.begin(), target.end());
    if (r != canonical_root.end() || !fs::is_regular_file(target, ec)) {
        return core::unexpected(media_refusal("rule=file_outside_root"));
    }
    if (fs::file_size(target, ec) > max_bytes || ec) {
        return core::unexpected(media_refusal("rule=too_large"));
    }
    std::ifstream in(target, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return bytes;
}

}  // namespace osprey::media
