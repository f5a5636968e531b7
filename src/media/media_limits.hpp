#pragma once

#include <cstddef>
#include <cstdint>

namespace osprey::media {

// What the server agrees to decode for one media part. Every limit is checked
// from headers before any decoder allocates for the content, so that a small
// upload cannot claim a huge picture or hours of sound (a decompression bomb).
struct media_limits {
    // Width times height of an image, and of every video frame.
    uint64_t max_image_pixels = 50'000'000;
    double max_audio_seconds = 600;
    double max_video_seconds = 600;
    // Video frames are sampled at this rate from t=0 (a rate that is not
    // positive means 1), at most `video_max_frames` of them (0 means 1); see
    // decode_video for videos longer than that covers.
    double video_fps = 1.0;
    std::size_t video_max_frames = 16;
};

}  // namespace osprey::media
