#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

// Hands one fuzz input out piece by piece, so that a single input can drive
// several arguments. Past the end every take returns 0 or an empty string:
// libFuzzer shortens and lengthens inputs freely, and a short input must
// still be a valid call rather than a crash in the harness.
namespace osprey::fuzz {

class fuzz_input {
public:
    fuzz_input(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    uint8_t take_byte() { return empty() ? 0 : data_[pos_++]; }

    bool take_bool() { return (take_byte() & 1) != 0; }

    // One length byte, then that many bytes (fewer at the end of the input).
    std::string take_string() {
        const std::size_t wanted = take_byte();
        const std::size_t n = wanted < size_ - pos_ ? wanted : size_ - pos_;
        std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return out;
    }

    std::string take_rest() {
        std::string out(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
        pos_ = size_;
        return out;
    }

    bool empty() const { return pos_ == size_; }

private:
    const uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

}  // namespace osprey::fuzz
