// A file written whole or not at all: the bytes go to a new file next to
// the target, reach the disk, and that file is renamed over the target, so
// the target holds its old contents or the new ones, never a part. Model
// files (nn/model_file.hpp) and the lab's CSV and gnuplot scripts are
// written this way. Layer: io.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#if __has_include(<unistd.h>)
#include <unistd.h> // fsync: the data reaches the disk before the rename
#endif

#include <fmt/core.h>

namespace etape::io {

/// What went wrong writing a file whole: the step ("cannot create the
/// temporary file ...", "writing the temporary file ... failed", "cannot
/// put the new file in its place") and the system's reason. It does not
/// name the target: the writer's caller wraps it in its own error, which
/// does.
class file_write_failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

[[nodiscard]] inline std::string system_message(int error) { return std::generic_category().message(error); }

} // namespace detail

/// The new contents of `target`, written into "<target>.tmp-<16 hex
/// digits>", a file made exclusively (fopen's "x": never someone else's).
/// commit() puts it in the target's place; destroyed before that, it
/// removes the temporary file and leaves the target as it was. Every
/// failure throws file_write_failure.
class atomic_file {
public:
    explicit atomic_file(std::filesystem::path target) : target_(std::move(target))
    {
        std::random_device device;
        for (int attempt = 1;; ++attempt) {
            const std::uint64_t tag = (std::uint64_t(device()) << 32) ^ device();
            temporary_ = target_;
            temporary_ += fmt::format(".tmp-{:016x}", tag);
            errno = 0;
            file_ = std::fopen(temporary_.string().c_str(), "wbx");
            if (file_ != nullptr)
                return;
            if (errno != EEXIST || attempt == 8)
                throw file_write_failure("cannot create the temporary file " + temporary_.string() + ": " +
                                         detail::system_message(errno));
        }
    }

    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;

    ~atomic_file()
    {
        if (file_ != nullptr)
            std::fclose(file_);
        if (!committed_) {
            std::error_code ignored;
            std::filesystem::remove(temporary_, ignored);
        }
    }

    void write(std::span<const unsigned char> bytes)
    {
        require_open("write");
        errno = 0;
        if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
            fail_writing();
    }

    void write(std::string_view text)
    {
        write(std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
    }

    /// Flushes the contents to the disk (fsync where there is one), closes
    /// the temporary file and renames it to the target. Once: after it (or
    /// after it failed), write and commit throw std::logic_error.
    void commit()
    {
        require_open("commit");
        errno = 0;
        if (std::fflush(file_) != 0 || std::ferror(file_) != 0)
            fail_writing();
#if __has_include(<unistd.h>)
        if (::fsync(::fileno(file_)) != 0)
            fail_writing();
#endif
        const int closed = std::fclose(file_);
        file_ = nullptr;
        if (closed != 0)
            fail_writing();
        std::error_code error;
        std::filesystem::rename(temporary_, target_, error);
        if (error)
            throw file_write_failure("cannot put the new file in its place: " + error.message());
        committed_ = true;
    }

private:
    void require_open(std::string_view call) const
    {
        if (file_ == nullptr)
            throw std::logic_error("etape::io::atomic_file::" + std::string(call) + ": the file of " +
                                   target_.string() + " was already committed (or its commit failed)");
    }

    [[noreturn]] void fail_writing() const
    {
        throw file_write_failure("writing the temporary file " + temporary_.string() + " failed: " +
                                 (errno != 0 ? detail::system_message(errno) : std::string("unknown error")));
    }

    std::filesystem::path target_;
    std::filesystem::path temporary_;
    std::FILE* file_ = nullptr;
    bool committed_ = false;
};

} // namespace etape::io
