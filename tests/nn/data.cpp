// Data sets: the embedded digits and their CSV form, standardisation, the
// IDX reader (on files written here, malformed ones included, and on the
// installed Fashion-MNIST when it is there), and the mini-batch loader.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <etape/nn/batch_loader.hpp>
#include <etape/nn/digits.hpp>
#include <etape/nn/fashion_mnist.hpp>

#include "support/scratch_folder.hpp"

namespace nn = etape::nn;
namespace fs = std::filesystem;
using etape_test::scratch_folder;

namespace {

void write_plain(const std::string& path, const std::vector<unsigned char>& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

/// Writes `bytes` gzip-compressed (plain where etape has no zlib).
void write_gzip(const std::string& path, const std::vector<unsigned char>& bytes)
{
#if ETAPE_HAS_ZLIB
    gzFile out = gzopen(path.c_str(), "wb");
    REQUIRE(out != nullptr);
    REQUIRE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(out) == Z_OK);
#else
    write_plain(path, bytes);
#endif
}

void append_word(std::vector<unsigned char>& bytes, std::uint32_t word)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        bytes.push_back(static_cast<unsigned char>(word >> shift));
}

/// An IDX images file: `count` images of rows x columns, pixel k of the file
/// being k % 256.
std::vector<unsigned char> idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t columns)
{
    std::vector<unsigned char> bytes;
    append_word(bytes, 0x00000803);
    append_word(bytes, count);
    append_word(bytes, rows);
    append_word(bytes, columns);
    for (std::size_t k = 0; k < std::size_t{count} * rows * columns; ++k)
        bytes.push_back(static_cast<unsigned char>(k % 256));
    return bytes;
}

std::vector<unsigned char> idx_labels(std::initializer_list<unsigned char> labels)
{
    std::vector<unsigned char> bytes;
    append_word(bytes, 0x00000801);
    append_word(bytes, static_cast<std::uint32_t>(labels.size()));
    bytes.insert(bytes.end(), labels);
    return bytes;
}

/// The message of the data_error that `f` throws (fails when it throws none).
template <class F>
std::string data_error_of(F&& f)
{
    try {
        f();
    } catch (const nn::data_error& e) {
        return e.what();
    }
    FAIL("no data_error thrown");
    return {};
}

/// data/digits.csv.gz of the repository, found from this file's path.
std::string repository_digits_csv()
{
    return (fs::path(__FILE__).parent_path().parent_path().parent_path() / "data" / "digits.csv.gz").string();
}

} // namespace

TEST_CASE_TEMPLATE("digits: 1,437 training rows and 360 test rows of 64 features, labels 0..9", T, float, double)
{
    const nn::data_split<T> digits = nn::digits<T>();
    CHECK(digits.train.features.shape() == etape::shape{1437, 64});
    CHECK(digits.test.features.shape() == etape::shape{360, 64});
    CHECK(digits.train.rows() == 1437);
    CHECK(digits.test.rows() == 360);
    CHECK(digits.train.classes == 10);
    CHECK(digits.test.classes == 10);
    std::vector<int> seen(10, 0);
    for (const auto* labels : {&digits.train.labels, &digits.test.labels})
        for (const std::size_t label : *labels) {
            REQUIRE(label < 10);
            ++seen[label];
        }
    for (const int n : seen)
        CHECK(n > 150); // each digit about 180 times
}

TEST_CASE_TEMPLATE("digits: each training feature has mean 0 and standard deviation 1, or is constant 0", T, float,
                   double)
{
    const nn::data_split<T> digits = nn::digits<T>();
    const auto values = digits.train.features.values();
    int constant = 0;
    for (std::size_t j = 0; j < 64; ++j) {
        double sum = 0, squares = 0;
        for (std::size_t r = 0; r < 1437; ++r) {
            const auto x = static_cast<double>(values[r * 64 + j]);
            sum += x;
            squares += x * x;
        }
        const double mean = sum / 1437, variance = squares / 1437 - mean * mean;
        CAPTURE(j);
        CHECK(std::abs(mean) < 1e-5);
        if (variance < 1e-6) {
            ++constant; // a pixel that is 0 in every training row stays 0
            for (std::size_t r = 0; r < 1437; ++r)
                REQUIRE(values[r * 64 + j] == T(0));
        } else {
            CHECK(variance == doctest::Approx(1.0).epsilon(1e-4));
        }
    }
    CHECK(constant >= 1);
    CHECK(constant <= 4);
}

TEST_CASE("digits: the embedded rows are the CSV's rows")
{
    const nn::dataset<double> all = nn::embedded_digits<double>();
    REQUIRE(all.features.shape() == etape::shape{1797, 64});
    // the first line of data/digits.csv.gz
    const double first[64]{0, 0, 5,  13, 9,  1,  0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3,  15, 2, 0, 11,
                           8, 0, 0,  4,  12, 0,  0, 8, 8, 0, 0,  5,  8,  0,  0, 9, 8, 0,  0,  4, 11, 0,
                           1, 12, 7, 0,  0,  2,  14, 5, 10, 12, 0,  0, 0,  0,  6, 13, 10, 0, 0, 0};
    for (std::size_t c = 0; c < 64; ++c)
        CHECK(all.features(0, c) == first[c]);
    CHECK(all.labels[0] == 0);
    CHECK(all.labels[1] == 1);
    CHECK(all.labels[1796] == 8);

    const std::string csv = repository_digits_csv();
    if (!fs::exists(csv) || !ETAPE_HAS_ZLIB) {
        MESSAGE("data/digits.csv.gz not found from this file's path, or no zlib: the full comparison is skipped");
        return;
    }
    const nn::dataset<double> read = nn::read_digits_csv<double>(csv);
    CHECK(read.features.shape() == all.features.shape());
    CHECK(read.labels == all.labels);
    CHECK(std::ranges::equal(read.features.values(), all.features.values()));

    // the split takes the first 1,437 rows for training, in order
    const nn::data_split<double> digits = nn::digits<double>();
    CHECK(std::ranges::equal(digits.train.labels, std::span(all.labels).first(1437)));
    CHECK(std::ranges::equal(digits.test.labels, std::span(all.labels).last(360)));
}

TEST_CASE("read_digits_csv: a malformed line names the file, the line and the column")
{
    scratch_folder folder;
    const auto row = [](int label) {
        std::string line;
        for (int c = 0; c < 64; ++c)
            line += std::to_string(c % 17) + ",";
        return line + std::to_string(label) + "\n";
    };
    const std::string good = folder / "good.csv";
    {
        std::ofstream(good) << row(3) << row(7) << "\n"; // a blank last line is allowed
    }
    const nn::dataset<float> read = nn::read_digits_csv<float>(good);
    CHECK(read.features.shape() == etape::shape{2, 64});
    CHECK(read.labels == std::vector<std::size_t>{3, 7});
    CHECK(read.features(1, 16) == 16.0f);

    struct bad_case {
        std::string text;
        std::string where;
        std::string problem;
    };
    std::string long_pixel = row(1);
    long_pixel.replace(long_pixel.find("16"), 2, "17");
    std::string letter = row(1);
    letter[4] = 'x'; // column 5: the third value "2" becomes "x"
    const bad_case cases[]{
        {row(1) + letter, ", line 2, column 5: ", "expected a pixel value 0..16, found \"x\""},
        {long_pixel, ", line 1, column ", "expected a pixel value 0..16, found \"17\""},
        {row(1) + row(10), ", line 2, column ", "expected a label 0..9, found \"10\""},
        {"1,2,3\n", ", line 1, column 6: ", "3 values, expected 65"},
        {row(1).substr(0, row(1).size() - 1) + ",4\n", ", line 1, column ", "more than 65 values"},
        {row(1) + "\n" + row(2).replace(0, 1, ""), ", line 3, column 1: ", "found \"\""},
    };
    for (const bad_case& c : cases) {
        const std::string path = folder / "bad.csv";
        std::ofstream(path) << c.text;
        const std::string message = data_error_of([&] { (void)nn::read_digits_csv<float>(path); });
        CAPTURE(message);
        CHECK(message.find(path + c.where) != std::string::npos);
        CHECK(message.find(c.problem) != std::string::npos);
    }

    const std::string missing = folder / "missing.csv";
    CHECK(data_error_of([&] { (void)nn::read_digits_csv<float>(missing); }).find(missing) != std::string::npos);
}

TEST_CASE("standardise: the training rows' statistics, applied to both sets")
{
    nn::data_split<double> split{
        {etape::tensor<double>({3, 2}, {1, 5, 2, 5, 3, 5}), {0, 1, 0}, 2},
        {etape::tensor<double>({1, 2}, {4, 7}), {1}, 2},
    };
    const nn::feature_scaling<double> scaling = nn::standardise(split);
    const double s = std::sqrt(2.0 / 3.0); // population deviation of 1, 2, 3
    CHECK(scaling.mean == std::vector<double>{2, 5});
    CHECK(scaling.inverse_std[0] == doctest::Approx(1 / s));
    CHECK(scaling.inverse_std[1] == 1); // constant: centred only
    CHECK(split.train.features(0, 0) == doctest::Approx(-1 / s));
    CHECK(split.train.features(2, 0) == doctest::Approx(1 / s));
    CHECK(split.train.features(1, 1) == 0);
    CHECK(split.test.features(0, 0) == doctest::Approx(2 / s));
    CHECK(split.test.features(0, 1) == 2);
}

TEST_CASE("split_rows: the first rows train, the rest test, and a bad count is refused")
{
    const nn::dataset<float> all{etape::tensor<float>({4, 1, 2}, {0, 1, 2, 3, 4, 5, 6, 7}), {0, 1, 2, 3}, 4};
    const nn::data_split<float> split = nn::split_rows(all, 3);
    CHECK(split.train.features.shape() == etape::shape{3, 1, 2});
    CHECK(split.test.features.shape() == etape::shape{1, 1, 2});
    CHECK(split.test.features(0, 0, 1) == 7.0f);
    CHECK(split.test.labels == std::vector<std::size_t>{3});
    CHECK_THROWS_AS((void)nn::split_rows(all, 5), std::invalid_argument);
}

TEST_CASE_TEMPLATE("read_idx_images and read_idx_labels read what was written, compressed or not", T, float, double)
{
    scratch_folder folder;
    write_gzip(folder / "images.gz", idx_images(3, 2, 5));
    write_plain(folder / "images", idx_images(3, 2, 5));
    write_gzip(folder / "labels.gz", idx_labels({9, 0, 4}));
    for (const std::string name : {"images.gz", "images"}) {
        const etape::tensor<T> images = nn::read_idx_images<T>(folder / name);
        REQUIRE(images.shape() == etape::shape{3, 1, 2, 5});
        for (std::size_t k = 0; k < images.size(); ++k)
            CHECK(images.values()[k] == static_cast<T>(k % 256) / T(255));
    }
    CHECK(nn::read_idx_labels(folder / "labels.gz") == std::vector<std::size_t>{9, 0, 4});
}

TEST_CASE("read_idx_images and read_idx_labels: a malformed file names the file and the byte offset")
{
    scratch_folder folder;
    struct bad_case {
        std::vector<unsigned char> bytes;
        bool images;
        std::string where; // ", byte N: "
        std::string problem;
    };
    std::vector<unsigned char> bad_magic = idx_images(1, 2, 2);
    bad_magic[3] = 0x02;
    std::vector<unsigned char> truncated = idx_images(4, 3, 3);
    truncated.resize(16 + 9 * 2 + 4);
    std::vector<unsigned char> trailing = idx_images(2, 2, 2);
    trailing.push_back(7);
    std::vector<unsigned char> short_header = idx_images(1, 2, 2);
    short_header.resize(10);
    std::vector<unsigned char> labels_cut = idx_labels({1, 2, 3, 4});
    labels_cut.pop_back();
    const bad_case cases[]{
        {bad_magic, true, ", byte 0: ",
         "magic number 0x00000802, where IDX images (unsigned bytes, 3 dimensions) have 0x00000803"},
        {idx_labels({1}), true, ", byte 0: ", "magic number 0x00000801"},
        {idx_images(1, 2, 2), false, ", byte 0: ",
         "magic number 0x00000803, where IDX labels (unsigned bytes, 1 dimension) have 0x00000801"},
        {short_header, true, ", byte 8: ", "the file ends in the row count (4 bytes expected, 2 found)"},
        {idx_images(1, 0, 28), true, ", byte 8: ", "images of 0x28 pixels"},
        {truncated, true, ", byte 38: ", "the file ends in image 3 of 4"},
        {trailing, true, ", byte 24: ", "the file goes on after the last image"},
        {idx_labels({1, 2, 10, 3}), false, ", byte 10: ", "label 10 is outside 0..9"},
        {labels_cut, false, ", byte 11: ", "the file ends after 3 of 4 labels"},
    };
    for (const bad_case& c : cases) {
        for (const bool compressed : {true, false}) {
            const std::string path = folder / (compressed ? "bad.gz" : "bad");
            (compressed ? write_gzip : write_plain)(path, c.bytes);
            const std::string message = data_error_of([&] {
                if (c.images)
                    (void)nn::read_idx_images<float>(path);
                else
                    (void)nn::read_idx_labels(path);
            });
            CAPTURE(message);
            CHECK(message.find(path + c.where) != std::string::npos);
            CHECK(message.find(c.problem) != std::string::npos);
        }
    }
}

#if ETAPE_HAS_ZLIB
TEST_CASE("read_idx_images: a gzip stream cut short or damaged names the file and the offset")
{
    scratch_folder folder;
    const std::string whole = folder / "whole.gz";
    write_gzip(whole, idx_images(50, 28, 28));
    std::ifstream in(whole, std::ios::binary);
    std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};

    std::vector<unsigned char> cut = bytes;
    cut.resize(cut.size() / 2);
    write_plain(folder / "cut.gz", cut);
    const std::string cut_message = data_error_of([&] { (void)nn::read_idx_images<float>(folder / "cut.gz"); });
    CAPTURE(cut_message);
    CHECK(cut_message.find((folder / "cut.gz").string() + ", byte ") != std::string::npos);
    CHECK(cut_message.find("truncated") != std::string::npos);

    std::vector<unsigned char> damaged = bytes;
    for (std::size_t k = 20; k < 60; ++k)
        damaged[k] ^= 0x5a;
    write_plain(folder / "damaged.gz", damaged);
    const std::string damaged_message =
        data_error_of([&] { (void)nn::read_idx_images<float>(folder / "damaged.gz"); });
    CAPTURE(damaged_message);
    CHECK(damaged_message.find((folder / "damaged.gz").string() + ", byte ") != std::string::npos);
    CHECK(damaged_message.find("the gzip data is damaged (zlib: ") != std::string::npos);
}
#else
TEST_CASE("input_file: without zlib a gzip-compressed file names the package to install")
{
    scratch_folder folder;
    write_plain(folder / "x.gz", {0x1f, 0x8b, 8, 0});
    CHECK(data_error_of([&] { (void)nn::read_idx_labels(folder / "x.gz"); }).find("zlib1g-dev") !=
          std::string::npos);
}
#endif

TEST_CASE("fashion_mnist: a missing folder or file names the package, and counts and sizes are checked")
{
    scratch_folder folder;
    const std::string nowhere = folder / "nowhere";
    const std::string absent = data_error_of([&] { (void)nn::fashion_mnist<float>(nowhere); });
    CHECK(absent.find(nowhere) != std::string::npos);
    CHECK(absent.find("apt-get install dataset-fashion-mnist") != std::string::npos);

    write_gzip(folder / "train-images-idx3-ubyte.gz", idx_images(3, 28, 28));
    write_gzip(folder / "train-labels-idx1-ubyte.gz", idx_labels({1, 2, 3}));
    write_gzip(folder / "t10k-images-idx3-ubyte.gz", idx_images(2, 28, 28));
    const std::string missing = data_error_of([&] { (void)nn::fashion_mnist<float>(folder.path()); });
    CHECK(missing.find(folder / "t10k-labels-idx1-ubyte.gz is missing") != std::string::npos);
    CHECK(missing.find("apt-get install dataset-fashion-mnist") != std::string::npos);

    write_plain(folder / "t10k-labels-idx1-ubyte", idx_labels({5, 6, 7})); // uncompressed is read too
    const std::string mismatch = data_error_of([&] { (void)nn::fashion_mnist<float>(folder.path()); });
    CHECK(mismatch.find(folder / "t10k-labels-idx1-ubyte, byte 4: 3 labels, where") != std::string::npos);
    CHECK(mismatch.find("holds 2 images") != std::string::npos);

    write_plain(folder / "t10k-labels-idx1-ubyte", idx_labels({5, 6}));
    const nn::data_split<float> small = nn::fashion_mnist<float>(folder.path());
    CHECK(small.train.features.shape() == etape::shape{3, 1, 28, 28});
    CHECK(small.test.labels == std::vector<std::size_t>{5, 6});

    write_gzip(folder / "t10k-images-idx3-ubyte.gz", idx_images(2, 14, 56));
    CHECK(data_error_of([&] { (void)nn::fashion_mnist<float>(folder.path()); })
              .find(folder / "t10k-images-idx3-ubyte.gz, byte 8: images of 14x56 pixels") != std::string::npos);
}

TEST_CASE("fashion_mnist: the installed set (dataset-fashion-mnist) has 60,000 and 10,000 rows")
{
    if (!fs::exists(fs::path(nn::fashion_mnist_folder) / "t10k-labels-idx1-ubyte.gz") || !ETAPE_HAS_ZLIB) {
        MESSAGE("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist), or no zlib: skipped");
        return;
    }
    const nn::data_split<float> fashion = nn::fashion_mnist<float>();
    CHECK(fashion.train.features.shape() == etape::shape{60000, 1, 28, 28});
    CHECK(fashion.test.features.shape() == etape::shape{10000, 1, 28, 28});
    for (const auto* part : {&fashion.train, &fashion.test}) {
        std::vector<int> seen(10, 0);
        for (const std::size_t label : part->labels) {
            REQUIRE(label < 10);
            ++seen[label];
        }
        for (const int n : seen)
            CHECK(n == static_cast<int>(part->rows() / 10)); // the set is balanced
        const auto [low, high] = std::ranges::minmax(part->features.values());
        CHECK(low == 0.0f);
        CHECK(high == 1.0f);
    }
}

namespace {

/// n rows whose 3 features are 10 r, 10 r + 1, 10 r + 2: a batch row tells
/// which data row it came from.
nn::dataset<float> numbered_rows(std::size_t n)
{
    nn::dataset<float> data{etape::tensor<float>({n, 3}), std::vector<std::size_t>(n), 7};
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t c = 0; c < 3; ++c)
            data.features(r, c) = static_cast<float>(10 * r + c);
        data.labels[r] = r % 7;
    }
    return data;
}

/// The data rows of one epoch, batch by batch, checking that each batch
/// row carries its row's features and label.
std::vector<std::vector<std::size_t>> epoch_rows(nn::batch_loader<float>& loader, const nn::dataset<float>& data)
{
    std::vector<std::vector<std::size_t>> rows;
    for (const auto& b : loader.epoch()) {
        REQUIRE(b.features.shape()[0] == b.labels.size());
        REQUIRE(b.features.shape()[1] == 3);
        auto& batch_rows = rows.emplace_back();
        for (std::size_t i = 0; i < b.labels.size(); ++i) {
            const auto row = static_cast<std::size_t>(b.features(i, 0)) / 10;
            REQUIRE(row < data.rows());
            CHECK(b.features(i, 2) == data.features(row, 2));
            CHECK(b.labels[i] == data.labels[row]);
            batch_rows.push_back(row);
        }
    }
    return rows;
}

} // namespace

TEST_CASE("batch_loader: every row once per epoch, a new order each epoch, the same order for the same seed")
{
    const nn::dataset<float> data = numbered_rows(23);
    nn::batch_loader<float> a(data, 5, nn::random_generator(42));
    nn::batch_loader<float> b(data, 5, nn::random_generator(42));
    nn::batch_loader<float> c(data, 5, nn::random_generator(43));
    CHECK(a.batch_count() == 5);
    std::vector<std::vector<std::size_t>> previous;
    for (int epoch = 0; epoch < 3; ++epoch) {
        const auto rows = epoch_rows(a, data);
        REQUIRE(rows.size() == 5);
        for (std::size_t k = 0; k < 4; ++k)
            CHECK(rows[k].size() == 5);
        CHECK(rows[4].size() == 3); // the partial last batch is kept
        std::vector<std::size_t> all;
        for (const auto& batch_rows : rows)
            all.insert(all.end(), batch_rows.begin(), batch_rows.end());
        std::ranges::sort(all);
        for (std::size_t r = 0; r < 23; ++r)
            CHECK(all[r] == r);
        CHECK(rows == epoch_rows(b, data));
        CHECK(rows != epoch_rows(c, data));
        CHECK(rows != previous);
        previous = rows;
    }
}

TEST_CASE("batch_loader: the last partial batch dropped or kept, and an ordered loader keeps the rows in order")
{
    const nn::dataset<float> data = numbered_rows(10);
    nn::batch_loader<float> dropping(data, 4, nn::random_generator(1), nn::last_batch::drop);
    CHECK(dropping.batch_count() == 2);
    const auto dropped = epoch_rows(dropping, data);
    REQUIRE(dropped.size() == 2);
    CHECK(dropped[0].size() + dropped[1].size() == 8);

    nn::batch_loader<float> ordered(data, 4);
    const std::vector<std::vector<std::size_t>> in_order{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}};
    CHECK(epoch_rows(ordered, data) == in_order);
    CHECK(epoch_rows(ordered, data) == in_order);

    nn::batch_loader<float> one_batch(data, 64, nn::last_batch::drop);
    CHECK(one_batch.batch_count() == 0);
    CHECK(epoch_rows(one_batch, data).empty());
}

TEST_CASE("batch_loader: a batch keeps the row shape of images, and a bad size is refused")
{
    const nn::dataset<double> images{etape::tensor<double>({5, 1, 2, 2}), {0, 1, 2, 3, 4}, 5};
    nn::batch_loader<double> loader(images, 2);
    int batches = 0;
    for (const auto& b : loader.epoch()) {
        CHECK(b.features.shape() == etape::shape{batches < 2 ? 2u : 1u, 1, 2, 2});
        ++batches;
    }
    CHECK(batches == 3);
    CHECK_THROWS_AS(nn::batch_loader<double>(images, 0), std::invalid_argument);
    const nn::dataset<double> mismatched{etape::tensor<double>({5, 2}), {0, 1}, 2};
    CHECK_THROWS_AS(nn::batch_loader<double>(mismatched, 2), std::invalid_argument);
}
