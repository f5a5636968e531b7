#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace osprey::media {

// Decodes a `data:[<type>][;base64],<payload>` URI. Only base64 payloads are
// accepted, decoded strictly (standard alphabet, correct padding) and capped
// at `max_bytes` before decoding. Errors: invalid_value naming what is wrong;
// the client's own bytes are at stake here, not the server's network.
core::expected<std::string> decode_data_uri(std::string_view uri, std::size_t max_bytes);

// Reads a `file://` URL or a bare absolute path, confined to `root`: the
// canonical path (symbolic links resolved) must lie inside the canonical
// root. Errors: media_unavailable with the generic message when `root` is
// empty or the file is outside it, missing, or larger than `max_bytes`.
core::expected<std::string> read_under_root(std::string_view location, const std::string& root,
                                            std::size_t max_bytes);

bool is_data_uri(std::string_view s);
bool is_local_reference(std::string_view s);  // file:// or an absolute path

}  // namespace osprey::media
