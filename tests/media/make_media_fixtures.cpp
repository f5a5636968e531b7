// osprey-make-media-fixtures --out DIR
//
// Writes the media fixtures that tests/media and the end-to-end tests use;
// the file names and what each holds are listed in media_fixtures.hpp:
// image.png image.jpg image.gif image.bmp image.webp audio.wav audio.mp3
// audio.flac video.mp4 video.avi video.mkv audio_only.mkv long.mp4 long.wav truncated.png
// truncated.mp4 mismatched.mp3 bomb.png bomb.gif bomb.jpg.
// Exit status 0 on success, 1 on a failure (said on stderr), 2 on bad usage.

#include <cstdio>
#include <string_view>

extern "C" {
#include <libavutil/log.h>
}

#include "media_fixtures.hpp"

int main(int argc, char** argv) {
    if (argc != 3 || std::string_view(argv[1]) != "--out") {
        std::fprintf(stderr, "usage: osprey-make-media-fixtures --out DIR\n");
        return 2;
    }
    av_log_set_level(AV_LOG_ERROR);  // the encoders' notes are not news
    auto ok = osprey::testing::write_media_fixtures(argv[2]);
    if (!ok) {
        std::fprintf(stderr, "%s\n", ok.error().public_message.c_str());
        return 1;
    }
    return 0;
}
