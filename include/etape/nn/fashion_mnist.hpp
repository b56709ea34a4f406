// Fashion-MNIST (Zalando SE, MIT licence) read from its IDX files as
// Debian's dataset-fashion-mnist package installs them. Layer: nn.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <etape/nn/data/input_file.hpp>
#include <etape/nn/dataset.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// Where `apt-get install dataset-fashion-mnist` puts the four files.
inline constexpr std::string_view fashion_mnist_folder = "/usr/share/datasets/fashion-mnist";

/// What the labels 0..9 stand for.
inline constexpr std::array<std::string_view, 10> fashion_mnist_class_names{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

namespace detail {

/// The next big-endian 32-bit word of an IDX header.
inline std::uint32_t read_idx_word(input_file& file, std::string_view what)
{
    unsigned char bytes[4]{};
    file.read_exact(bytes, what);
    return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 | std::uint32_t{bytes[2]} << 8 | bytes[3];
}

/// 0x00000803 for 2051.
inline std::string hex_word(std::uint32_t word)
{
    std::string text = "0x";
    for (int shift = 28; shift >= 0; shift -= 4)
        text += "0123456789abcdef"[(word >> shift) & 15];
    return text;
}

/// Reads an IDX magic number (two zero bytes, 0x08 for unsigned bytes, the
/// number of dimensions) and checks it is `magic`.
inline void expect_idx_magic(input_file& file, std::uint32_t magic, std::string_view kind)
{
    const std::uint32_t found = read_idx_word(file, "the magic number");
    if (found != magic)
        file.fail_at(0, "magic number " + hex_word(found) + ", where IDX " + std::string(kind) + " have " +
                            hex_word(magic));
}

inline void expect_no_more(input_file& file, std::string_view last)
{
    if (!file.at_end())
        file.fail("the file goes on after the " + std::string(last));
}

} // namespace detail

/// IDX images of unsigned bytes (magic 0x00000803, then the count, the rows
/// and the columns), gzip-compressed or not: features [count, 1, rows,
/// columns] (one channel, NCHW, as conv2d takes them; reshape to [count,
/// rows * columns] for a dense layer, without a copy), pixels scaled from
/// 0..255 to [0, 1]. A malformed file throws data_error naming the file and
/// the byte offset.
template <std::floating_point T>
[[nodiscard]] etape::tensor<T> read_idx_images(const std::string& path)
{
    detail::input_file file(path);
    detail::expect_idx_magic(file, 0x00000803, "images (unsigned bytes, 3 dimensions)");
    const std::size_t count = detail::read_idx_word(file, "the image count");
    const std::size_t rows = detail::read_idx_word(file, "the row count");
    const std::size_t columns = detail::read_idx_word(file, "the column count");
    if (rows == 0 || columns == 0)
        file.fail_at(8, "images of " + std::to_string(rows) + "x" + std::to_string(columns) +
                            " pixels (no pixel at all)");
    const std::size_t extents[]{count, 1, rows, columns};
    if (!etape::shape::fits_a_tape(extents))
        file.fail_at(4, std::to_string(count) + " images of " + std::to_string(rows) + "x" + std::to_string(columns) +
                            " pixels are more than a tensor holds");
    etape::tensor<T> images{etape::shape(std::span<const std::size_t>(extents))};
    const auto values = images.values();
    const std::size_t image_size = rows * columns;
    std::vector<unsigned char> chunk(std::min<std::size_t>(values.size(), std::size_t{1} << 20));
    for (std::size_t done = 0; done < values.size();) {
        const std::size_t n = std::min(chunk.size(), values.size() - done);
        const std::size_t got = file.read_some(std::span<unsigned char>(chunk.data(), n));
        for (std::size_t i = 0; i < got; ++i)
            values[done + i] = static_cast<T>(chunk[i]) / T(255);
        done += got;
        if (got < n)
            file.fail("the file ends in image " + std::to_string(done / image_size + 1) + " of " +
                      std::to_string(count) + " (" + std::to_string(image_size) + " bytes each, from byte 16)");
    }
    detail::expect_no_more(file, "last image");
    return images;
}

/// IDX labels of unsigned bytes (magic 0x00000801, then the count), each
/// below `classes`. A malformed file or a label out of range throws
/// data_error naming the file and the byte offset.
[[nodiscard]] inline std::vector<std::size_t> read_idx_labels(const std::string& path, std::size_t classes = 10)
{
    detail::input_file file(path);
    detail::expect_idx_magic(file, 0x00000801, "labels (unsigned bytes, 1 dimension)");
    const std::size_t count = detail::read_idx_word(file, "the label count");
    std::vector<std::size_t> labels;
    labels.reserve(std::min<std::size_t>(count, std::size_t{1} << 20)); // a damaged count allocates nothing huge
    unsigned char chunk[1 << 14];
    while (labels.size() < count) {
        const std::size_t n = std::min<std::size_t>(sizeof chunk, count - labels.size());
        const std::size_t got = file.read_some(std::span<unsigned char>(chunk, n));
        for (std::size_t i = 0; i < got; ++i) {
            if (chunk[i] >= classes)
                file.fail_at(8 + labels.size(), "label " + std::to_string(chunk[i]) + " is outside 0.." +
                                                    std::to_string(classes - 1));
            labels.push_back(chunk[i]);
        }
        if (got < n)
            file.fail("the file ends after " + std::to_string(labels.size()) + " of " + std::to_string(count) +
                      " labels");
    }
    detail::expect_no_more(file, "last label");
    return labels;
}

namespace detail {

/// `name`.gz in `folder` (as Debian installs it), else `name` uncompressed;
/// a message naming the package when neither is there.
inline std::string fashion_mnist_file(const std::filesystem::path& folder, const std::string& name)
{
    for (const std::string& candidate : {name + ".gz", name})
        if (std::filesystem::exists(folder / candidate))
            return (folder / candidate).string();
    const std::string install = ": apt-get install dataset-fashion-mnist puts Fashion-MNIST in " +
                                std::string(fashion_mnist_folder) + " (on Debian and Ubuntu)";
    if (!std::filesystem::is_directory(folder))
        throw data_error("etape: there is no folder " + folder.string() + install);
    throw data_error("etape: " + (folder / (name + ".gz")).string() + " is missing" + install);
}

template <std::floating_point T>
dataset<T> read_fashion_mnist_part(const std::filesystem::path& folder, const std::string& prefix)
{
    const std::string images_path = fashion_mnist_file(folder, prefix + "-images-idx3-ubyte");
    const std::string labels_path = fashion_mnist_file(folder, prefix + "-labels-idx1-ubyte");
    dataset<T> part{read_idx_images<T>(images_path), read_idx_labels(labels_path, 10), 10};
    const etape::shape& s = part.features.shape();
    if (s[2] != 28 || s[3] != 28)
        throw data_error("etape: " + images_path + ", byte 8: images of " + std::to_string(s[2]) + "x" +
                         std::to_string(s[3]) + " pixels, where Fashion-MNIST's are 28x28");
    if (part.labels.size() != s[0])
        throw data_error("etape: " + labels_path + ", byte 4: " + std::to_string(part.labels.size()) +
                         " labels, where " + images_path + " holds " + std::to_string(s[0]) + " images");
    return part;
}

} // namespace detail

/// Fashion-MNIST from `folder`: train (60,000 rows) and test (10,000),
/// features [rows, 1, 28, 28] with pixels in [0, 1], labels 0..9 (see
/// fashion_mnist_class_names). Reads the gzip-compressed files Debian
/// installs (train-images-idx3-ubyte.gz, ...) or the same files
/// uncompressed; needs zlib for the compressed ones.
template <std::floating_point T>
[[nodiscard]] data_split<T> fashion_mnist(const std::filesystem::path& folder = fashion_mnist_folder)
{
    return {detail::read_fashion_mnist_part<T>(folder, "train"), detail::read_fashion_mnist_part<T>(folder, "t10k")};
}

} // namespace etape::nn
