// Model files: nn::save writes every tensor of a model (dotted name, kind,
// dtype, shape, values) to a checksummed little-endian file, atomically;
// nn::load checks a whole file against the model before it writes one
// value. Layer: nn (a walk, as parameters() is). The format: docs/nn.md.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <fmt/core.h>

#include <etape/core/number_text.hpp>
#include <etape/io/atomic_file.hpp>
#include <etape/nn/reflect.hpp>

static_assert(std::endian::native == std::endian::little,
              "etape::nn model files hold little-endian values, copied as they lie in memory: this host is "
              "big-endian, which they do not support");
static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "etape::nn model files hold IEEE 754 binary32 and binary64 values");

namespace etape::nn {

/// Thrown by nn::save and nn::load for every file problem; the message
/// names the file and the first problem found ("etape::nn::load:
/// model.etape: checksum mismatch: ...").
class model_file_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The version of the format that nn::save writes and nn::load reads.
inline constexpr std::uint32_t model_file_version = 1;

namespace detail {

/// The first 8 bytes of a model file: a byte with its high bit set (which
/// a 7-bit transfer destroys), "etape", then CR LF (which a line-ending
/// conversion destroys).
inline constexpr std::array<unsigned char, 8> model_file_magic{0x89, 'e', 't', 'a', 'p', 'e', '\r', '\n'};

/// magic (8), version (4), file length (8), tensor count (4)
inline constexpr std::size_t model_file_header_size = 24;
inline constexpr std::size_t model_file_checksum_size = 4;

/// crc32_tables[0][b]: the CRC-32 register after byte b; crc32_tables[k][b]:
/// after byte b and then k zero bytes. Eight tables let crc32 take eight
/// bytes a step ("slicing-by-8"), about five times as fast as one.
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_tables = [] {
    std::array<std::array<std::uint32_t, 256>, 8> tables{};
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
        std::uint32_t crc = byte;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1u) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        tables[0][byte] = crc;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::size_t byte = 0; byte < 256; ++byte)
            tables[k][byte] = (tables[k - 1][byte] >> 8) ^ tables[0][tables[k - 1][byte] & 0xFFu];
    return tables;
}();

/// CRC-32 as zlib's crc32(), PNG and gzip compute it: polynomial
/// 0x04C11DB7 taken bit-reversed (0xEDB88320), initial value and final xor
/// 0xFFFFFFFF; crc32(b, crc32(a)) is the CRC of a followed by b, and
/// crc32("123456789") is 0xCBF43926. It detects every change of one to 32
/// consecutive bits, so every damaged byte.
constexpr std::uint32_t crc32(std::span<const unsigned char> bytes, std::uint32_t previous = 0) noexcept
{
    const auto& t = crc32_tables;
    const auto word = [](const unsigned char* p) {
        return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
    };
    std::uint32_t crc = ~previous;
    const unsigned char* p = bytes.data();
    std::size_t n = bytes.size();
    for (; n >= 8; n -= 8, p += 8) {
        const std::uint32_t low = word(p) ^ crc, high = word(p + 4);
        crc = t[7][low & 0xFFu] ^ t[6][(low >> 8) & 0xFFu] ^ t[5][(low >> 16) & 0xFFu] ^ t[4][low >> 24] ^
              t[3][high & 0xFFu] ^ t[2][(high >> 8) & 0xFFu] ^ t[1][(high >> 16) & 0xFFu] ^ t[0][high >> 24];
    }
    for (; n > 0; --n, ++p)
        crc = t[0][(crc ^ *p) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

enum class tensor_kind : std::uint8_t { parameter = 0, buffer = 1 };
enum class dtype : std::uint8_t { float32 = 1, float64 = 2 };

inline std::string_view name_of(tensor_kind kind) { return kind == tensor_kind::parameter ? "parameter" : "buffer"; }
inline std::string_view name_of(dtype type) { return type == dtype::float32 ? "float32" : "float64"; }

template <class T>
constexpr dtype dtype_of() noexcept
{
    static_assert(std::same_as<T, float> || std::same_as<T, double>,
                  "etape::nn model files hold float and double tensors");
    return std::same_as<T, float> ? dtype::float32 : dtype::float64;
}

/// What a file and a model say about one tensor.
struct tensor_description {
    std::string name;
    tensor_kind kind;
    dtype type;
    etape::shape shape;
};

/// A tensor of the model and its values as bytes: `const unsigned char`
/// to save, `unsigned char` to load into.
template <class Byte>
struct model_tensor : tensor_description {
    std::span<Byte> bytes;
};

/// A tensor of a file: its values are at `offset` in the file.
struct file_tensor : tensor_description {
    std::size_t offset;
};

/// Lists a model's tensors in the walk's order.
template <class Byte>
struct tensor_lister {
    std::vector<model_tensor<Byte>> tensors;

    template <class Tensor>
    void parameter(std::string_view name, Tensor& p)
    {
        add(name, tensor_kind::parameter, p);
    }

    template <class Tensor>
    void buffer(std::string_view name, Tensor& b)
    {
        add(name, tensor_kind::buffer, b);
    }

    template <class Tensor>
    void add(std::string_view name, tensor_kind kind, Tensor& t)
    {
        const auto values = t.values();
        using T = std::remove_cvref_t<decltype(values[0])>;
        tensors.push_back({{std::string(name), kind, dtype_of<T>(), t.shape()},
                           std::span<Byte>(reinterpret_cast<Byte*>(values.data()), values.size_bytes())});
    }
};

template <class Model>
auto list_tensors(Model& model)
{
    tensor_lister<std::conditional_t<std::is_const_v<Model>, const unsigned char, unsigned char>> lister;
    nn::walk(model, lister);
    return std::move(lister.tensors);
}

/// "etape::nn::load: model.etape: <problem>"
[[noreturn]] inline void throw_model_file_error(std::string_view operation, const std::filesystem::path& path,
                                                std::string_view problem)
{
    throw model_file_error(fmt::format("etape::nn::{}: {}: {}", operation, path.string(), problem));
}

using etape::io::detail::system_message;

/// "89 65 74"
inline std::string hex_bytes(std::span<const unsigned char> bytes)
{
    constexpr std::string_view digits = "0123456789abcdef";
    std::string text;
    for (const unsigned char b : bytes) {
        if (!text.empty())
            text += ' ';
        text += digits[b >> 4];
        text += digits[b & 0xF];
    }
    return text;
}

template <class Integer>
void append_little_endian(std::vector<unsigned char>& out, Integer value)
{
    for (std::size_t i = 0; i < sizeof(Integer); ++i)
        out.push_back(static_cast<unsigned char>(static_cast<std::uint64_t>(value) >> (8 * i)));
}

/// The model file of `tensors`, `length` bytes (docs/nn.md "Model files"),
/// written whole to `path` (io::atomic_file).
inline void write_model_file_contents(const std::vector<model_tensor<const unsigned char>>& tensors,
                                      std::uint64_t length, const std::filesystem::path& path)
{
    io::atomic_file file(path);
    std::uint32_t crc = 0;
    std::vector<unsigned char> fields; // everything but the values, one field group at a time
    const auto put = [&](std::span<const unsigned char> bytes) {
        crc = crc32(bytes, crc);
        file.write(bytes);
    };
    fields.assign(model_file_magic.begin(), model_file_magic.end());
    append_little_endian(fields, model_file_version);
    append_little_endian(fields, length);
    append_little_endian(fields, static_cast<std::uint32_t>(tensors.size()));
    put(fields);
    for (const auto& t : tensors) {
        fields.clear();
        append_little_endian(fields, static_cast<std::uint32_t>(t.name.size()));
        fields.insert(fields.end(), t.name.begin(), t.name.end());
        fields.push_back(static_cast<unsigned char>(t.kind));
        fields.push_back(static_cast<unsigned char>(t.type));
        fields.push_back(static_cast<unsigned char>(t.shape.rank()));
        for (const std::size_t extent : t.shape.extents())
            append_little_endian(fields, static_cast<std::uint64_t>(extent));
        put(fields);
        put(t.bytes);
    }
    fields.clear();
    append_little_endian(fields, crc);
    file.write(fields);
    file.commit();
}

/// Writes the model file of `tensors` to `path`, whole or not at all:
/// `path` is the old file or the new one, never a part of one.
inline void write_model_file(const std::vector<model_tensor<const unsigned char>>& tensors,
                             const std::filesystem::path& path)
{
    const auto fail = [&](std::string_view problem) { throw_model_file_error("save", path, problem); };
    if (!path.has_filename())
        fail("the path names a folder, not a file");
    const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::error_code error;
    if (!std::filesystem::is_directory(folder, error))
        fail("there is no folder " + folder.string());
    if (tensors.size() > std::numeric_limits<std::uint32_t>::max())
        fail(fmt::format("{} tensors, more than a model file holds (2^32 - 1)", tensors.size()));

    std::uint64_t length = model_file_header_size + model_file_checksum_size;
    for (const auto& t : tensors) {
        if (t.name.size() > std::numeric_limits<std::uint32_t>::max())
            fail("a tensor's name is longer than a model file holds (2^32 - 1 bytes)");
        length += 4 + t.name.size() + 3 + 8 * t.shape.rank() + t.bytes.size();
    }

    try {
        write_model_file_contents(tensors, length, path);
    } catch (const io::file_write_failure& failure) {
        fail(failure.what());
    }
}

/// The bytes of the file at `path`.
inline std::vector<unsigned char> read_whole_file(const std::filesystem::path& path)
{
    errno = 0;
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.string().c_str(), "rb"), &std::fclose);
    if (file == nullptr)
        throw_model_file_error("load", path, "cannot open it: " + system_message(errno));
    std::vector<unsigned char> bytes;
    std::error_code ignored;
    const std::uintmax_t size = std::filesystem::file_size(path, ignored);
    if (!ignored)
        bytes.reserve(static_cast<std::size_t>(size));
    constexpr std::size_t chunk = std::size_t(1) << 16;
    for (;;) {
        const std::size_t old = bytes.size();
        bytes.resize(old + chunk);
        errno = 0;
        const std::size_t read = std::fread(bytes.data() + old, 1, chunk, file.get());
        bytes.resize(old + read);
        if (read < chunk)
            break;
    }
    if (std::ferror(file.get()) != 0)
        throw_model_file_error("load", path,
                               "cannot read it: " + (errno != 0 ? system_message(errno) : std::string("read error")));
    return bytes;
}

/// Reads a model file's fields front to back. Running out of bytes is
/// either the file cut short (`truncated`) or, in a file whose length and
/// checksum are right, a tensor that runs into the checksum.
class field_reader {
public:
    field_reader(std::span<const unsigned char> bytes, std::size_t at, bool truncated,
                 const std::filesystem::path& path)
        : bytes_(bytes), at_(at), truncated_(truncated), path_(path)
    {
    }

    [[nodiscard]] std::size_t at() const noexcept { return at_; }

    /// What the next bytes belong to, for the messages: "the header",
    /// "tensor 'l1.bias'".
    void set_section(std::string section) { section_ = std::move(section); }

    std::span<const unsigned char> take(std::size_t n)
    {
        if (n > bytes_.size() - at_) {
            if (truncated_)
                fail(fmt::format("truncated at byte {} (in {})", bytes_.size(), section_));
            fail(fmt::format("{} runs into the checksum at byte {}", section_, bytes_.size()));
        }
        const auto taken = bytes_.subspan(at_, n);
        at_ += n;
        return taken;
    }

    template <class Integer>
    Integer read()
    {
        std::uint64_t value = 0;
        const auto bytes = take(sizeof(Integer));
        for (std::size_t i = 0; i < sizeof(Integer); ++i)
            value |= std::uint64_t(bytes[i]) << (8 * i);
        return static_cast<Integer>(value);
    }

    [[noreturn]] void fail(std::string_view problem) const { throw_model_file_error("load", path_, problem); }

private:
    std::span<const unsigned char> bytes_;
    std::size_t at_;
    bool truncated_;
    const std::filesystem::path& path_;
    std::string section_ = "the header";
};

/// The `count` tensors that start at the reader's position.
inline std::vector<file_tensor> read_tensors(field_reader& in, std::uint32_t count)
{
    std::vector<file_tensor> tensors;
    for (std::uint32_t index = 0; index < count; ++index) {
        in.set_section(fmt::format("the name of tensor {}", index));
        const auto name_length = in.read<std::uint32_t>();
        const auto name_bytes = in.take(name_length);
        std::string name(name_bytes.begin(), name_bytes.end());
        in.set_section("tensor '" + name + "'");
        const std::size_t kind_at = in.at();
        const auto kind = in.read<std::uint8_t>();
        const auto type = in.read<std::uint8_t>();
        const auto rank = in.read<std::uint8_t>();
        if (kind > 1)
            in.fail(fmt::format("tensor '{}' has kind {} (byte {}), where 0 is a parameter and 1 a buffer", name,
                                kind, kind_at));
        if (type != 1 && type != 2)
            in.fail(fmt::format("tensor '{}' has dtype {} (byte {}), where 1 is float32 and 2 float64", name, type,
                                kind_at + 1));
        if (rank > etape::shape::max_rank)
            in.fail(fmt::format("tensor '{}' has rank {} (byte {}), at most {}", name, rank, kind_at + 2,
                                etape::shape::max_rank));
        std::array<std::size_t, etape::shape::max_rank> extents{};
        for (std::size_t axis = 0; axis < rank; ++axis) {
            const auto extent = in.read<std::uint64_t>();
            if (extent > std::numeric_limits<std::size_t>::max())
                in.fail(fmt::format("tensor '{}' has an extent of {}, more than this host addresses", name, extent));
            extents[axis] = static_cast<std::size_t>(extent);
        }
        const std::span<const std::size_t> used(extents.data(), rank);
        if (!etape::shape::fits_a_tape(used)) {
            std::string listed;
            for (const std::size_t extent : used)
                listed += (listed.empty() ? "" : ", ") + std::to_string(extent);
            in.fail(fmt::format("tensor '{}' has extents [{}], more elements than a tape holds", name, listed));
        }
        file_tensor t{{std::move(name), static_cast<tensor_kind>(kind), static_cast<dtype>(type), etape::shape(used)},
                      0};
        t.offset = in.at();
        // at most 2^32 elements of at most 8 bytes: no overflow
        (void)in.take(t.shape.size() * (t.type == dtype::float32 ? 4 : 8));
        tensors.push_back(std::move(t));
    }
    return tensors;
}

/// Checks the whole file (magic, version, length, checksum, then every
/// field) and lists its tensors; throws model_file_error at the first
/// problem.
inline std::vector<file_tensor> read_model_file(std::span<const unsigned char> file, const std::filesystem::path& path)
{
    field_reader header(file, 0, true, path);
    const std::size_t start = std::min(file.size(), model_file_magic.size());
    if (!std::equal(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(start), model_file_magic.begin()))
        header.fail(fmt::format("not an etape model file: it starts with {}, a model file with {}",
                                hex_bytes(file.first(start)), hex_bytes(model_file_magic)));
    (void)header.take(model_file_magic.size());
    const auto version = header.read<std::uint32_t>();
    if (version != model_file_version)
        header.fail(fmt::format("version {}, this build reads version {}", version, model_file_version));
    const auto length = header.read<std::uint64_t>();
    const auto count = header.read<std::uint32_t>();

    if (file.size() > length)
        header.fail(fmt::format("{} after the end of the model (its header gives its length as {})",
                                etape::detail::counted(file.size() - length, "byte"),
                                etape::detail::counted(length, "byte")));
    if (file.size() < length || file.size() < model_file_header_size + model_file_checksum_size) {
        // Cut short: the tensors as far as they go say where.
        field_reader in(file, model_file_header_size, true, path);
        (void)read_tensors(in, count);
        in.set_section("the checksum");
        (void)in.take(model_file_checksum_size);
        in.fail(fmt::format("truncated at byte {}: its header gives its length as {}", file.size(),
                            etape::detail::counted(length, "byte")));
    }

    const std::size_t end = file.size() - model_file_checksum_size;
    const std::uint32_t computed = crc32(file.first(end));
    field_reader trailer(file, end, true, path);
    const auto stored = trailer.read<std::uint32_t>();
    if (computed != stored)
        header.fail(fmt::format("checksum mismatch: the file is damaged (it records the CRC-32 0x{:08x}, its bytes "
                                "give 0x{:08x})",
                                stored, computed));

    field_reader in(file.first(end), model_file_header_size, false, path);
    std::vector<file_tensor> tensors = read_tensors(in, count);
    if (in.at() != end)
        in.fail(fmt::format("{} between the last tensor and the checksum (from byte {})",
                            etape::detail::counted(end - in.at(), "byte"), in.at()));
    return tensors;
}

/// Throws unless the file holds the model's tensors, in the model's order;
/// `holder` names what the tensors belong to in the messages.
template <class Byte>
void check_model_matches(const std::vector<file_tensor>& file, const std::vector<model_tensor<Byte>>& model,
                         const std::filesystem::path& path, std::string_view holder = "model")
{
    const auto fail = [&](std::string_view problem) { throw_model_file_error("load", path, problem); };
    const std::size_t common = std::min(file.size(), model.size());
    for (std::size_t i = 0; i < common; ++i) {
        const tensor_description& f = file[i];
        const tensor_description& m = model[i];
        if (f.name != m.name || f.shape != m.shape)
            fail(fmt::format("tensor {} is '{}' {} in the file, the {} has '{}' {}", i, f.name, f.shape.to_string(),
                             holder, m.name, m.shape.to_string()));
        if (f.kind != m.kind)
            fail(fmt::format("tensor {} '{}' is a {} in the file, a {} in the {}", i, f.name, name_of(f.kind),
                             name_of(m.kind), holder));
        if (f.type != m.type)
            fail(fmt::format("tensor {} '{}' is {} in the file, the {} holds {}", i, f.name, name_of(f.type), holder,
                             name_of(m.type)));
    }
    if (file.size() > model.size())
        fail(fmt::format("the file holds {} tensors, the {} {}: the file's '{}' {} is not in the {}", file.size(),
                         holder, model.size(), file[common].name, file[common].shape.to_string(), holder));
    if (file.size() < model.size())
        fail(fmt::format("the file holds {} tensors, the {} {}: the {}'s '{}' {} is not in the file", file.size(),
                         holder, model.size(), holder, model[common].name, model[common].shape.to_string()));
}

} // namespace detail

/// Writes every parameter and buffer of `model` (the walk's tensors, with
/// their dotted names) to `path` in the format of docs/nn.md, "Model
/// files". Atomic: the data goes to a new file in the same folder, is
/// flushed to the disk and renamed over `path`, so `path` holds either its
/// old content or the whole new file. Throws model_file_error (naming
/// `path` and the problem) when the folder is missing, the file cannot be
/// written or renamed; the temporary file is then removed.
template <class Model>
void save(const Model& model, const std::filesystem::path& path)
{
    detail::write_model_file(detail::list_tensors(model), path);
}

/// Reads `path` into `model`: every parameter's values are written in
/// place (active_tensor::values(), the tensor keeps its tape slots), every
/// buffer's too. The whole file is checked first (magic, version, length,
/// checksum, then each tensor's name, kind, dtype and shape against the
/// model's, in order): any problem throws model_file_error naming `path`
/// and the first problem, and leaves the model exactly as it was.
template <class Model>
void load(Model& model, const std::filesystem::path& path)
{
    static_assert(!std::is_const_v<Model>, "etape::nn::load writes into the model: it cannot be const");
    const std::vector<unsigned char> file = detail::read_whole_file(path);
    const std::vector<detail::file_tensor> stored = detail::read_model_file(file, path);
    const auto tensors = detail::list_tensors(model);
    detail::check_model_matches(stored, tensors, path);
    // Nothing below can fail: the model changes only now, and all at once.
    for (std::size_t i = 0; i < tensors.size(); ++i)
        if (!tensors[i].bytes.empty())
            std::memcpy(tensors[i].bytes.data(), file.data() + stored[i].offset, tensors[i].bytes.size());
}

} // namespace etape::nn
