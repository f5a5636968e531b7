#include "engine/multimodal.hpp"

#include <chrono>

#include <openssl/evp.h>

#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include "core/log.hpp"
#include "engine/model.hpp"

namespace osprey::engine {

embeddings embedding_cache::find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) {
        return nullptr;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
}

void embedding_cache::insert(const std::string& key, embeddings value) {
    const size_t bytes = value->size() * sizeof(float);
    std::lock_guard lock(mutex_);
    if (bytes > capacity_ || index_.contains(key)) {
        return;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    bytes_ += bytes;
    // Whoever still holds an evicted entry keeps it alive until done with it.
    while (bytes_ > capacity_) {
        bytes_ -= order_.back().second->size() * sizeof(float);
        index_.erase(order_.back().first);
        order_.pop_back();
    }
}

size_t embedding_cache::size_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

std::string content_hash(const void* bytes, size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes, size, digest, &length, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

namespace {

struct chunks_deleter {
    void operator()(mtmd_input_chunks* c) const { mtmd_input_chunks_free(c); }
};

std::string hash_of(const media_input& in) {
    std::string h = in.file.empty() ? content_hash(in.rgb.data(), in.rgb.size())
                                    : content_hash(in.file.data(), in.file.size());
    return (in.kind == media_input::type::audio ? "audio:" : "image:") + h;
}

core::error undecodable(const media_input& in, std::string detail) {
    core::error e = core::make_error(core::error_code::invalid_value,
                                     std::string("The ") +
                                         (in.kind == media_input::type::audio ? "audio" : "image") +
                                         " could not be decoded.",
                                     in.param);
    e.internal_detail = std::move(detail);
    return e;
}

// Tokenizes one bitmap alone; mtmd adds the projector's own markers around
// it. Media chunks are keyed `<id>#<ordinal>`: long audio yields several.
core::expected<std::vector<media_piece>> tokenize_bitmap(const model& m, const mtmd_bitmap* bitmap,
                                                         const std::string& id) {
    const mtmd_input_part part{nullptr, bitmap};
    const mtmd_input_part* parts[] = {&part};
    std::unique_ptr<mtmd_input_chunks, chunks_deleter> chunks(mtmd_input_chunks_init());
    if (const int32_t rc = mtmd_tokenize_from_parts(m.projector(), chunks.get(), parts, 1, false);
        rc != 0) {
        return core::unexpected(core::make_error(core::error_code::internal,
                                                 "mtmd_tokenize returned " + std::to_string(rc)));
    }
    std::vector<media_piece> pieces;
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks.get()); ++i) {
        const mtmd_input_chunk* c = mtmd_input_chunks_get(chunks.get(), i);
        if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            size_t n = 0;
            const llama_token* t = mtmd_input_chunk_get_tokens_text(c, &n);
            pieces.emplace_back(std::vector<int32_t>(t, t + n));
            continue;
        }
        // An image whose tokens attend to each other both ways (gemma3) must
        // be decoded in one micro-batch; llama_decode would fail mid-answer.
        const auto n_ubatch = llama_n_ubatch(m.context());
        if (mtmd_decode_use_non_causal(m.projector(), c) &&
            mtmd_input_chunk_get_n_tokens(c) > n_ubatch) {
            return core::unexpected(core::make_error(
                core::error_code::invalid_value,
                "The image needs " + std::to_string(mtmd_input_chunk_get_n_tokens(c)) +
                    " tokens in one step, more than this server's batch of " +
                    std::to_string(n_ubatch) + " (--batch-size)."));
        }
        media_chunk mc;
        mc.chunk = std::shared_ptr<const mtmd_input_chunk>(
            mtmd_input_chunk_copy(c), [](const mtmd_input_chunk* p) {
                mtmd_input_chunk_free(const_cast<mtmd_input_chunk*>(p));
            });
        mc.key = id + "#" + std::to_string(pieces.size());
        mc.n_tokens = static_cast<int32_t>(mtmd_input_chunk_get_n_tokens(c));
        mc.cached = m.media_cache().find(mc.key);
        pieces.emplace_back(std::move(mc));
    }
    return pieces;
}

bool all_cached(const std::vector<media_piece>& pieces) {
    for (const auto& p : pieces) {
        if (const auto* mc = std::get_if<media_chunk>(&p); mc && !mc->cached) {
            return false;
        }
    }
    return true;
}

// An image whose every chunk the cache holds needs only its size to be
// tokenized again: mtmd counts tokens from a bitmap without pixels.
std::optional<std::vector<media_piece>> tokenize_from_cache(const model& m, const media_input& in,
                                                            const std::string& id) {
    if (in.kind != media_input::type::image || in.width == 0 || in.height == 0) {
        return std::nullopt;
    }
    std::shared_ptr<mtmd_bitmap> placeholder(mtmd_bitmap_init(in.width, in.height, nullptr),
                                             mtmd_bitmap_free);
    mtmd_bitmap_set_id(placeholder.get(), id.c_str());
    auto pieces = tokenize_bitmap(m, placeholder.get(), id);
    if (!pieces || !all_cached(*pieces)) {
        return std::nullopt;
    }
    return std::move(*pieces);
}

core::expected<std::shared_ptr<mtmd_bitmap>> decode(const model& m, const media_input& in) {
    m.count_media_decode();
    mtmd_bitmap* bitmap = nullptr;
    if (!in.file.empty()) {
        take_llama_errors();
        // mtmd's C++ inside lets std::bad_alloc out when a file's header
        // makes its decoder ask for more than there is; the gate's probes
        // refuse every such header they know of.
        try {
            bitmap = mtmd_helper_bitmap_init_from_buf(
                         m.projector(), reinterpret_cast<const unsigned char*>(in.file.data()),
                         in.file.size(), false, mtmd_helper_init_opt_default())
                         .bitmap;
        } catch (const std::exception& e) {
            return core::unexpected(undecodable(in, std::string("mtmd threw: ") + e.what()));
        }
        if (bitmap == nullptr) {
            return core::unexpected(undecodable(in, "mtmd: " + take_llama_errors()));
        }
    } else {
        if (in.rgb.size() != size_t{in.width} * in.height * 3 || in.rgb.empty()) {
            return core::unexpected(undecodable(in, "pixel buffer does not match its size"));
        }
        bitmap = mtmd_bitmap_init(in.width, in.height, in.rgb.data());
    }
    std::shared_ptr<mtmd_bitmap> owned(bitmap, mtmd_bitmap_free);
    const bool is_audio = mtmd_bitmap_is_audio(bitmap);
    if (is_audio != (in.kind == media_input::type::audio)) {
        return core::unexpected(undecodable(in, "decoded as the other modality"));
    }
    return owned;
}

}  // namespace

namespace {

core::expected<embeddings> encode_chunk(const model& m, const media_chunk& chunk) {
    const auto started = std::chrono::steady_clock::now();
    std::lock_guard lock(m.encoder_mutex());
    take_llama_errors();
    core::error e =
        core::make_error(core::error_code::internal, "The model failed to read the media input.");
    try {
        if (mtmd_encode_chunk(m.projector(), chunk.chunk.get()) != 0) {
            e.internal_detail = "mtmd_encode_chunk failed: " + take_llama_errors();
            return core::unexpected(e);
        }
    } catch (const std::exception& ex) {
        e.internal_detail = std::string("mtmd_encode_chunk threw: ") + ex.what();
        return core::unexpected(e);
    }
    const size_t n = static_cast<size_t>(chunk.n_tokens) *
                     static_cast<size_t>(llama_model_n_embd_inp(m.llama()));
    const float* out = mtmd_get_output_embd(m.projector());
    auto embd = std::make_shared<const std::vector<float>>(out, out + n);
    m.count_media_encode();
    static const auto logger = core::log::get("engine");
    core::log::debug(*logger, "engine.media_encoded",
                     {{"tokens", chunk.n_tokens},
                      {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count()}});
    return embd;
}

}  // namespace

core::expected<void> encode_media(const model& m, std::vector<media_chunk>& chunks) {
    for (auto& chunk : chunks) {
        if (!chunk.cached) {
            // The same image twice in one prompt, or another request's.
            chunk.cached = m.media_cache().find(chunk.key);
        }
        if (chunk.cached) {
            continue;
        }
        auto embd = encode_chunk(m, chunk);
        if (!embd) {
            return core::unexpected(embd.error());
        }
        m.media_cache().insert(chunk.key, *embd);
        chunk.cached = std::move(*embd);
    }
    return {};
}

core::expected<std::vector<media_piece>> tokenize_media(const model& m, const media_input& in,
                                                        media_memo& memo) {
    if (m.projector() == nullptr) {
        return core::unexpected(
            core::make_error(core::error_code::internal, "tokenize_media without a projector"));
    }
    const std::string id = hash_of(in);
    if (!memo.contains(id)) {
        if (auto pieces = tokenize_from_cache(m, in, id)) {
            return std::move(*pieces);
        }
        auto bitmap = decode(m, in);
        if (!bitmap) {
            return core::unexpected(bitmap.error());
        }
        mtmd_bitmap_set_id(bitmap->get(), id.c_str());
        memo.emplace(id, std::move(*bitmap));
    }
    auto pieces = tokenize_bitmap(m, memo.at(id).get(), id);
    if (!pieces && pieces.error().param.empty()) {
        pieces.error().param = in.param;
    }
    return pieces;
}

}  // namespace osprey::engine
