#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

// Owning handles for ffmpeg's objects, so that each is freed on every path.
// Private to src/media (and the fixture generator in tests/media).
namespace osprey::media::av {

struct codec_free {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct frame_free {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct packet_free {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct parser_free {
    void operator()(AVCodecParserContext* p) const { av_parser_close(p); }
};
struct scaler_free {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};

using codec_ptr = std::unique_ptr<AVCodecContext, codec_free>;
using frame_ptr = std::unique_ptr<AVFrame, frame_free>;
using packet_ptr = std::unique_ptr<AVPacket, packet_free>;
using parser_ptr = std::unique_ptr<AVCodecParserContext, parser_free>;
using scaler_ptr = std::unique_ptr<SwsContext, scaler_free>;

// av_err2str is a C compound literal, which C++ does not have.
inline std::string error_text(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof text);
    return text;
}

}  // namespace osprey::media::av
