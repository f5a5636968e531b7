#include "api/openai_media_parts.hpp"

namespace osprey::api::openai {

namespace {

const json* required_object(object_reader& r, const char* key) {
    const json* v = r.raw(key);
    if (!v) {
        r.fail(missing_error(r.name(key)));
        return nullptr;
    }
    if (!v->is_object()) {
        r.fail(type_error(r.name(key), "an object"));
        return nullptr;
    }
    return v;
}

// Reads {"url": "..."} and whatever else `extra` accepts from the same object.
void read_url_object(object_reader& r, const char* key, core::part_kind kind, core::message& out) {
    const json* object = required_object(r, key);
    if (!object) {
        return;
    }
    object_reader o(*object, r.name(key));
    auto url = o.string("url", unbounded_bytes);
    if (!url && !o.error()) {
        o.fail(missing_error(o.name("url")));
    }
    if (auto detail = o.string("detail");
        detail && *detail != "auto" && *detail != "low" && *detail != "high") {
        o.fail(value_error(o.name("detail"), "must be 'auto', 'low' or 'high'."));
    }
    o.reject_unread();
    if (o.error()) {
        r.fail(*o.error());
        return;
    }
    core::message_part part;
    part.kind = kind;
    part.source = *url;
    part.param = o.name("url");
    out.parts.push_back(std::move(part));
}

void read_input_audio(object_reader& r, core::message& out) {
    const json* object = required_object(r, "input_audio");
    if (!object) {
        return;
    }
    object_reader o(*object, r.name("input_audio"));
    auto data = o.string("data", unbounded_bytes);
    auto format = o.string("format");
    if (!o.error() && (!data || !format)) {
        const char* missing = data ? "format" : "data";
        o.fail(missing_error(o.name(missing)));
    }
    if (format && *format != "wav" && *format != "mp3" && *format != "flac") {
        o.fail(value_error(o.name("format"), "must be 'wav', 'mp3' or 'flac'."));
    }
    o.reject_unread();
    if (o.error()) {
        r.fail(*o.error());
        return;
    }
    core::message_part part;
    part.kind = core::part_kind::audio;
    // The bytes are checked from their magic like any other media; the
    // declared format only labels the data URI.
    part.source = "data:audio/" + *format + ";base64," + *data;
    part.param = o.name("data");
    out.parts.push_back(std::move(part));
}

// {"type": "image", "image": "<url>"}, as some clients send it (video and
// audio alike); the object form {"url": ...} is read as image_url's is.
void read_plain_part(object_reader& r, const char* key, core::part_kind kind, core::message& out) {
    const json* v = r.raw(key);
    if (v && v->is_object()) {
        read_url_object(r, key, kind, out);
        return;
    }
    auto url = r.string(key, unbounded_bytes);
    if (!url) {
        if (!r.error()) {
            r.fail(missing_error(r.name(key)));
        }
        return;
    }
    core::message_part part;
    part.kind = kind;
    part.source = *url;
    part.param = r.name(key);
    out.parts.push_back(std::move(part));
}

}  // namespace

bool read_media_part(object_reader& r, const std::string& type, core::message& out) {
    if (type == "image_url") {
        read_url_object(r, "image_url", core::part_kind::image, out);
    } else if (type == "audio_url") {
        read_url_object(r, "audio_url", core::part_kind::audio, out);
    } else if (type == "video_url") {
        read_url_object(r, "video_url", core::part_kind::video, out);
    } else if (type == "input_audio") {
        read_input_audio(r, out);
    } else if (type == "image") {
        read_plain_part(r, "image", core::part_kind::image, out);
    } else if (type == "audio") {
        read_plain_part(r, "audio", core::part_kind::audio, out);
    } else if (type == "video") {
        read_plain_part(r, "video", core::part_kind::video, out);
    } else {
        return false;
    }
    r.reject_unread();
    return true;
}

}  // namespace osprey::api::openai
