#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "engine/media_input.hpp"

struct mtmd_bitmap;
struct mtmd_input_chunk;

namespace osprey::engine {

class model;

using embeddings = std::shared_ptr<const std::vector<float>>;

// The projector's output for recently seen media, keyed by content hash, so
// that an image sent again (every turn of a conversation resends it) is
// neither decoded nor encoded again. Bounded by bytes, least recently used
// out first. Thread-safe: prompts are prepared on worker threads and media is
// encoded on the engine thread.
class embedding_cache {
public:
    explicit embedding_cache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

    // Returns nothing on a miss.
    embeddings find(const std::string& key);
    void insert(const std::string& key, embeddings value);
    size_t size_bytes() const;

private:
    using entry = std::pair<std::string, embeddings>;

    mutable std::mutex mutex_;
    const size_t capacity_;
    size_t bytes_ = 0;
    std::list<entry> order_;  // most recent first
    std::unordered_map<std::string, std::list<entry>::iterator> index_;
};

// One media chunk of a prepared prompt: the projector's tokens for one image,
// one video frame or one window of audio.
struct media_chunk {
    size_t at = 0;  // index of the text token it comes before
    std::shared_ptr<const mtmd_input_chunk> chunk;
    std::string key;  // embedding cache key: content hash and chunk ordinal
    int32_t n_tokens = 0;
    embeddings cached;  // set when the cache had it at preparation
};

// What a media input tokenizes to: the projector's own text around it (an
// image's begin and end markers) and its media chunks, in order.
using media_piece = std::variant<std::vector<int32_t>, media_chunk>;

// Media decoded for one request, by content hash, so that the same bytes sent
// twice in one request are decoded once.
using media_memo = std::unordered_map<std::string, std::shared_ptr<mtmd_bitmap>>;

// Tokenizes one media input with the model's projector. Thread-safe. When
// the cache holds every chunk of an image whose size is known, the image is
// not decoded at all. Errors: invalid_value when mtmd cannot decode the
// bytes; the caller names the part.
core::expected<std::vector<media_piece>> tokenize_media(const model& m, const media_input& in,
                                                        media_memo& memo);

// Runs the projector over every chunk the cache did not have, and fills in
// `cached` for each. Called while a prompt is prepared, on a blocking worker,
// so that encoding neither stalls the engine's other sequences nor fails
// after the response has started. Takes the model's encoder mutex.
// Errors: internal when mtmd fails to encode (the detail says why).
core::expected<void> encode_media(const model& m, std::vector<media_chunk>& chunks);

// The SHA-256 of `bytes`, in hex.
std::string content_hash(const void* bytes, size_t size);

}  // namespace osprey::engine
