// A data file read front to back, gzip-compressed or plain (through zlib
// when etape is built with it), that knows its byte offset for error
// messages. Layer: nn (used by the data set readers).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <etape/nn/dataset.hpp>

// CMake defines ETAPE_HAS_ZLIB (1 when it finds zlib, and then links it);
// a build by hand uses zlib when its header is there, and must link -lz.
#ifndef ETAPE_HAS_ZLIB
#if __has_include(<zlib.h>)
#define ETAPE_HAS_ZLIB 1
#else
#define ETAPE_HAS_ZLIB 0
#endif
#endif
#if ETAPE_HAS_ZLIB
#include <zlib.h>
#endif

namespace etape::nn::detail {

/// Reads a file in order. With zlib a gzip-compressed file is decompressed
/// on the fly (and a plain one read as it is); without zlib a compressed
/// file is refused with a message naming the package to install. Offsets
/// count bytes of the decompressed data.
class input_file {
public:
    explicit input_file(std::string path) : path_(std::move(path))
    {
        errno = 0;
#if ETAPE_HAS_ZLIB
        file_ = gzopen(path_.c_str(), "rb");
        if (file_ != nullptr)
            gzbuffer(file_, 1 << 17);
#else
        file_ = std::fopen(path_.c_str(), "rb");
#endif
        if (file_ == nullptr)
            throw data_error("etape: cannot open " + path_ + ": " +
                             (errno != 0 ? std::strerror(errno) : "out of memory"));
#if !ETAPE_HAS_ZLIB
        unsigned char magic[2]{};
        const std::size_t n = std::fread(magic, 1, 2, file_);
        if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
            std::fclose(file_);
            throw data_error("etape: " + path_ +
                             " is gzip-compressed, and etape was built without zlib: "
                             "apt-get install zlib1g-dev, then configure again");
        }
        std::rewind(file_);
#endif
    }

    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;

    ~input_file()
    {
#if ETAPE_HAS_ZLIB
        gzclose(file_);
#else
        std::fclose(file_);
#endif
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    /// Bytes read so far: the offset of the next byte.
    [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

    /// Fills `bytes` as far as the file goes; fewer bytes only at its end.
    std::size_t read_some(std::span<unsigned char> bytes)
    {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const std::size_t want = std::min<std::size_t>(bytes.size() - done, 1 << 20);
#if ETAPE_HAS_ZLIB
            const int got = gzread(file_, bytes.data() + done, static_cast<unsigned>(want));
            if (got <= 0) {
                int code = Z_OK;
                gzerror(file_, &code);
                // zlib reports Z_BUF_ERROR when the compressed stream itself is cut short.
                if (code == Z_BUF_ERROR)
                    fail("the gzip data ends early: the file is truncated");
                if (got < 0 || code != Z_OK)
                    fail("the gzip data is damaged (zlib: " + zlib_message() + ")");
                break;
            }
            const auto count = static_cast<std::size_t>(got);
#else
            const std::size_t count = std::fread(bytes.data() + done, 1, want, file_);
            if (count == 0) {
                if (std::ferror(file_))
                    fail("the file cannot be read");
                break;
            }
#endif
            done += count;
            offset_ += count;
        }
        return done;
    }

    /// Fills `bytes` completely, or throws naming `what` was being read.
    void read_exact(std::span<unsigned char> bytes, std::string_view what)
    {
        const std::size_t start = offset_;
        const std::size_t got = read_some(bytes);
        if (got < bytes.size())
            fail_at(start, "the file ends in " + std::string(what) + " (" + std::to_string(bytes.size()) +
                               " bytes expected, " + std::to_string(got) + " found)");
    }

    /// True when no byte is left. When one is, offset() stays at it, for
    /// the caller's message; read nothing more after that.
    [[nodiscard]] bool at_end()
    {
        unsigned char byte = 0;
        if (read_some(std::span<unsigned char>(&byte, 1)) == 0)
            return true;
        --offset_;
        return false;
    }

    /// Throws a data_error naming the file, the current offset and `problem`.
    [[noreturn]] void fail(const std::string& problem) const { fail_at(offset_, problem); }

    [[noreturn]] void fail_at(std::size_t offset, const std::string& problem) const
    {
        throw data_error("etape: " + path_ + ", byte " + std::to_string(offset) + ": " + problem);
    }

private:
#if ETAPE_HAS_ZLIB
    std::string zlib_message() const
    {
        int code = Z_OK;
        const char* message = gzerror(file_, &code);
        std::string text = message != nullptr && *message != '\0' ? message : "error " + std::to_string(code);
        if (text.starts_with(path_ + ": ")) // zlib names the file too
            text.erase(0, path_.size() + 2);
        return text;
    }

    gzFile file_ = nullptr;
#else
    std::FILE* file_ = nullptr;
#endif
    std::string path_;
    std::size_t offset_ = 0;
};

/// The whole content of `path` (decompressed), as text.
inline std::string read_text(const std::string& path)
{
    input_file file(path);
    std::string text;
    unsigned char chunk[1 << 14];
    while (const std::size_t n = file.read_some(chunk))
        text.append(reinterpret_cast<const char*>(chunk), n);
    return text;
}

} // namespace etape::nn::detail
