#include <cmath>
#include <numbers>

#include "fixture_encoding.hpp"
#include "media_fixtures.hpp"

namespace osprey::testing {

namespace {

namespace fs = std::filesystem;

struct output_free {
    void operator()(AVFormatContext* f) const {
        if (f->pb != nullptr) {
            avio_closep(&f->pb);
        }
        avformat_free_context(f);
    }
};
using output_ptr = std::unique_ptr<AVFormatContext, output_free>;

int16_t sine_sample(int64_t i, int rate) {
    const double t = static_cast<double>(i) / rate;
    return static_cast<int16_t>(std::lround(16000 * std::sin(2 * std::numbers::pi * 440 * t)));
}

// Muxers that keep codec headers apart from the packets want the encoder
// told before it opens.
int header_flags(const char* muxer) {
    const AVOutputFormat* format = av_guess_format(muxer, nullptr, nullptr);
    return format && (format->flags & AVFMT_GLOBALHEADER) ? AV_CODEC_FLAG_GLOBAL_HEADER : 0;
}

// A file through libavformat's `muxer`, with one stream from `encoder`, its
// header written.
core::expected<output_ptr> open_output(const fs::path& path, const char* muxer,
                                       const AVCodecContext* encoder) {
    AVFormatContext* raw = nullptr;
    const int r = avformat_alloc_output_context2(&raw, nullptr, muxer, path.c_str());
    output_ptr out(raw);
    if (r < 0) {
        return fixture_error(std::string("no muxer ") + muxer, r);
    }
    out->flags |= AVFMT_FLAG_BITEXACT;  // no library versions in the file
    AVStream* stream = avformat_new_stream(out.get(), nullptr);
    if (stream == nullptr) {
        return fixture_error("avformat_new_stream");
    }
    stream->time_base = encoder->time_base;
    int step = avcodec_parameters_from_context(stream->codecpar, encoder);
    if (step >= 0) {
        step = avio_open(&out->pb, path.c_str(), AVIO_FLAG_WRITE);
    }
    if (step >= 0) {
        step = avformat_write_header(out.get(), nullptr);
    }
    if (step < 0) {
        return fixture_error("opening " + path.string(), step);
    }
    return out;
}

// Encodes `frame` (nullptr: the end) and writes what comes out.
core::expected<void> mux(AVFormatContext* out, AVCodecContext* encoder, const AVFrame* frame) {
    if (const int r = avcodec_send_frame(encoder, frame); r < 0) {
        return fixture_error("avcodec_send_frame", r);
    }
    media::av::packet_ptr packet(av_packet_alloc());
    while (avcodec_receive_packet(encoder, packet.get()) == 0) {
        if (packet->duration == 0 && encoder->codec_type == AVMEDIA_TYPE_VIDEO) {
            packet->duration = 1;  // one tick, so the last frame has a length too
        }
        av_packet_rescale_ts(packet.get(), encoder->time_base, out->streams[0]->time_base);
        packet->stream_index = 0;
        if (const int r = av_interleaved_write_frame(out, packet.get()); r < 0) {
            return fixture_error("av_interleaved_write_frame", r);
        }
    }
    return {};
}

core::expected<void> finish(AVFormatContext* out, AVCodecContext* encoder) {
    if (auto ok = mux(out, encoder, nullptr); !ok) {
        return ok;
    }
    if (const int r = av_write_trailer(out); r < 0) {
        return fixture_error("av_write_trailer", r);
    }
    return {};
}

// Frame i shows video_frame_blue(i) at `times[i]`, in `time_base` units.
core::expected<void> write_video(const fs::path& path, const char* muxer, AVCodecID codec,
                                 AVPixelFormat format, AVRational time_base,
                                 const std::vector<int64_t>& times) {
    auto encoder = open_video_encoder(codec, format, time_base, header_flags(muxer));
    auto out = encoder ? open_output(path, muxer, encoder->get())
                       : core::expected<output_ptr>(core::unexpected(encoder.error()));
    if (!out) {
        return core::unexpected(out.error());
    }
    for (std::size_t i = 0; i < times.size(); ++i) {
        auto frame = pattern_frame(format, video_frame_blue(static_cast<int>(i)));
        if (!frame) {
            return core::unexpected(frame.error());
        }
        (*frame)->pts = times[i];
        (*frame)->quality = (*encoder)->global_quality;
        if (auto ok = mux(out->get(), encoder->get(), frame->get()); !ok) {
            return ok;
        }
    }
    return finish(out->get(), encoder->get());
}

core::expected<media::av::codec_ptr> open_audio_encoder(const char* name, AVSampleFormat format,
                                                        int rate, int flags) {
    const AVCodec* codec = avcodec_find_encoder_by_name(name);
    media::av::codec_ptr c(codec ? avcodec_alloc_context3(codec) : nullptr);
    if (!c) {
        return fixture_error(std::string("no encoder ") + name);
    }
    c->sample_fmt = format;
    c->sample_rate = rate;
    c->time_base = AVRational{1, rate};
    c->bit_rate = 32000;
    c->flags |= AV_CODEC_FLAG_BITEXACT | flags;
    av_channel_layout_default(&c->ch_layout, 1);
    if (const int r = avcodec_open2(c.get(), codec, nullptr); r < 0) {
        return fixture_error(std::string("avcodec_open2 ") + name, r);
    }
    return c;
}

// A mono sine in frames of the encoder's size; one plane either way.
core::expected<media::av::frame_ptr> sine_frame(const AVCodecContext* encoder, int64_t start,
                                                int samples) {
    media::av::frame_ptr frame(av_frame_alloc());
    frame->nb_samples = samples;
    frame->format = encoder->sample_fmt;
    frame->sample_rate = encoder->sample_rate;
    frame->pts = start;
    av_channel_layout_copy(&frame->ch_layout, &encoder->ch_layout);
    if (const int r = av_frame_get_buffer(frame.get(), 0); r < 0) {
        return fixture_error("av_frame_get_buffer", r);
    }
    auto* out = reinterpret_cast<int16_t*>(frame->data[0]);
    for (int i = 0; i < samples; ++i) {
        out[i] = sine_sample(start + i, encoder->sample_rate);
    }
    return frame;
}

core::expected<void> write_audio(const fs::path& path, const char* muxer, const char* codec,
                                 AVSampleFormat format, int rate, double seconds) {
    auto encoder = open_audio_encoder(codec, format, rate, header_flags(muxer));
    auto out = encoder ? open_output(path, muxer, encoder->get())
                       : core::expected<output_ptr>(core::unexpected(encoder.error()));
    if (!out) {
        return core::unexpected(out.error());
    }
    const auto total = static_cast<int64_t>(rate * seconds);
    const int size = (*encoder)->frame_size > 0 ? (*encoder)->frame_size : 1024;
    for (int64_t start = 0; start < total; start += size) {
        auto frame = sine_frame(encoder->get(), start,
                                static_cast<int>(std::min<int64_t>(size, total - start)));
        auto ok = frame ? mux(out->get(), encoder->get(), frame->get())
                        : core::expected<void>(core::unexpected(frame.error()));
        if (!ok) {
            return ok;
        }
    }
    return finish(out->get(), encoder->get());
}

core::expected<void> write_videos(const fs::path& dir) {
    std::vector<int64_t> times;
    for (int i = 0; i < video_frames; ++i) {
        times.push_back(i);
    }
    const AVRational fps{1, video_fps};
    auto ok =
        write_video(dir / "video.mp4", "mp4", AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P, fps, times);
    if (ok) {
        ok = write_video(dir / "video.avi", "avi", AV_CODEC_ID_MJPEG, AV_PIX_FMT_YUVJ420P, fps,
                         times);
    }
    if (ok) {
        ok = write_video(dir / "video.mkv", "matroska", AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P, fps,
                         times);
    }
    if (ok) {
        ok = write_video(dir / "long.mp4", "mp4", AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P,
                         AVRational{1, 10}, {0, 7000});
    }
    if (!ok) {
        return ok;
    }
    auto mp4 = read_file(dir / "video.mp4");
    if (!mp4) {
        return core::unexpected(mp4.error());
    }
    return write_file(dir / "truncated.mp4", mp4->substr(0, mp4->size() / 2));
}

}  // namespace

std::string make_wav(double seconds, uint32_t rate, uint32_t declared_data_bytes) {
    const auto samples = static_cast<uint32_t>(rate * seconds);
    const uint32_t data_bytes = samples * 2;
    std::string wav = "RIFF";
    put_le(wav, 36 + data_bytes, 4);
    wav += "WAVEfmt ";
    put_le(wav, 16, 4);
    put_le(wav, 1, 2);  // PCM
    put_le(wav, 1, 2);  // mono
    put_le(wav, rate, 4);
    put_le(wav, rate * 2, 4);  // bytes per second
    put_le(wav, 2, 2);         // bytes per sample frame
    put_le(wav, 16, 2);        // bits per sample
    wav += "data";
    put_le(wav, declared_data_bytes != 0 ? declared_data_bytes : data_bytes, 4);
    for (uint32_t i = 0; i < samples; ++i) {
        put_le(wav, static_cast<uint16_t>(sine_sample(i, static_cast<int>(rate))), 2);
    }
    return wav;
}

core::expected<void> write_av_fixtures(const fs::path& dir) {
    auto ok = write_file(dir / "audio.wav", make_wav(1, 16000));
    if (ok) {
        // Hours by the header: 0xffffff00 bytes at 32000 bytes a second.
        ok = write_file(dir / "long.wav", make_wav(1, 16000, 0xffffff00));
    }
    if (ok) {
        ok = write_audio(dir / "audio.mp3", "mp3", "libmp3lame", AV_SAMPLE_FMT_S16P, 16000, 2);
    }
    if (ok) {
        ok = write_audio(dir / "audio.flac", "flac", "flac", AV_SAMPLE_FMT_S16, 16000, 1);
    }
    if (ok) {
        ok = write_audio(dir / "audio_only.mkv", "matroska", "flac", AV_SAMPLE_FMT_S16, 16000, 1);
    }
    return ok ? write_videos(dir) : ok;
}

}  // namespace osprey::testing
