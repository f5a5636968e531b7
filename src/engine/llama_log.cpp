#include <string>
#include <utility>

#include <ggml.h>
#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include "core/log.hpp"
#include "engine/model.hpp"

namespace osprey::engine {

namespace {

// llama.cpp logs in fragments (a line may arrive in several calls, the later
// ones marked CONT), so each thread assembles its own line before logging it.
thread_local std::string line_buffer;
thread_local ggml_log_level line_level = GGML_LOG_LEVEL_DEBUG;
thread_local std::string captured_errors;

void emit_line() {
    static const auto logger = core::log::get("llama");
    std::string text = std::move(line_buffer);
    line_buffer.clear();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    if (text.empty()) {
        return;
    }
    // llama.cpp's errors come back to osprey as failed calls, which osprey
    // reports in one line with this text as its detail; logged as they come
    // they would only repeat it, so they stay at debug level.
    if (line_level == GGML_LOG_LEVEL_ERROR) {
        captured_errors += captured_errors.empty() ? "" : "; ";
        captured_errors += text;
        core::log::debug(*logger, "llama.error", {{"text", text}});
    } else if (line_level == GGML_LOG_LEVEL_WARN) {
        core::log::debug(*logger, "llama.warning", {{"text", text}});
    } else {
        core::log::write(*logger, spdlog::level::trace, "llama.log", {{"text", text}});
    }
}

void on_llama_log(ggml_log_level level, const char* text, void* /*user_data*/) {
    if (level != GGML_LOG_LEVEL_CONT) {
        if (!line_buffer.empty()) {
            emit_line();
        }
        line_level = level;
    }
    line_buffer += text ? text : "";
    if (!line_buffer.empty() && line_buffer.back() == '\n') {
        emit_line();
    }
}

}  // namespace

void install_llama_log() {
    llama_log_set(on_llama_log, nullptr);
    // mtmd's helpers keep a logger of their own; setting it sets mtmd's too.
    mtmd_helper_log_set(on_llama_log, nullptr);
}

std::string take_llama_errors() {
    return std::exchange(captured_errors, std::string());
}

}  // namespace osprey::engine
