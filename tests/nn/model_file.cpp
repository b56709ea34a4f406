// Model files: a round trip bit for bit and in place, the format of
// docs/nn.md byte by byte, models of another dtype, shape or architecture
// refused, every damaged byte and every truncation refused with the model
// left as it was, and saves that fail leaving nothing behind.
#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#if __has_include(<sys/resource.h>)
#include <csignal>
#include <sys/resource.h>
#define ETAPE_TEST_HAS_FILE_SIZE_LIMIT 1
#endif
#if defined(ETAPE_HAS_ZLIB) && ETAPE_HAS_ZLIB
#include <zlib.h>
#endif

#include <etape/etape.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/model_file.hpp>

#include "support/check.hpp"
#include "support/scratch_folder.hpp"

namespace nn = etape::nn;
namespace fs = std::filesystem;
using bytes = std::vector<unsigned char>;
using etape_test::scratch_folder;

namespace {

template <class T>
struct statistics {
    BOOST_HANA_DEFINE_STRUCT(statistics, (etape::tensor<T>, mean), (etape::tensor<T>, variance));
};

template <class T>
struct encoder {
    BOOST_HANA_DEFINE_STRUCT(encoder, (std::array<nn::dense<T, nn::activation::elu>, 2>, layers),
                             (statistics<T>, input));
};

// 9 tensors: body.layers.0.weight, body.layers.0.bias, body.layers.1.weight, body.layers.1.bias,
// body.input.mean, body.input.variance (buffers), head.weight, head.bias, temperature (a rank-0 buffer)
template <class T>
struct classifier {
    BOOST_HANA_DEFINE_STRUCT(classifier, (encoder<T>, body), (nn::dense<T>, head), (etape::tensor<T>, temperature),
                             (int, revision));
};

template <class T>
encoder<T> make_encoder(std::size_t in, std::size_t hidden)
{
    using layer = nn::dense<T, nn::activation::elu>;
    return {std::array<layer, 2>{layer(in, hidden), layer(hidden, hidden)},
            statistics<T>{etape::tensor<T>({in}), etape::tensor<T>({in})}};
}

template <class T>
classifier<T> make_classifier(std::size_t in, std::size_t hidden, std::size_t out)
{
    return {make_encoder<T>(in, hidden), nn::dense<T>(hidden, out), etape::tensor<T>(etape::shape{}), 1};
}

// the same names, but the temperature is trained
template <class T>
struct trained_temperature {
    BOOST_HANA_DEFINE_STRUCT(trained_temperature, (encoder<T>, body), (nn::dense<T>, head),
                             (etape::active_tensor<T>, temperature));
};

// the classifier without its head
template <class T>
struct headless {
    BOOST_HANA_DEFINE_STRUCT(headless, (encoder<T>, body));
};

template <class T>
struct two_layers {
    BOOST_HANA_DEFINE_STRUCT(two_layers, (nn::dense<T>, first), (nn::dense<T>, second));
};

// for the byte-by-byte format: 4 tensors, one of rank 0 and one empty
template <class T>
struct tiny {
    BOOST_HANA_DEFINE_STRUCT(tiny, (nn::dense<T>, layer), (etape::tensor<T>, scale), (etape::tensor<T>, empty));
};

bytes read_bytes(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, std::span<const unsigned char> content)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    out.close();
    REQUIRE(out);
}

/// One tensor of a model as the tests see it: its bytes, where its values
/// live and (for a parameter) its first tape slot.
struct tensor_state {
    std::string name;
    bool trainable;
    bytes values;
    const void* data;
    etape::slot_index first_slot;

    bool operator==(const tensor_state&) const = default;
};

struct state_recorder {
    std::vector<tensor_state> list;
    template <class T>
    void parameter(std::string_view name, const etape::active_tensor<T>& p)
    {
        add(name, true, p.values(), p.first_slot());
    }
    template <class T>
    void buffer(std::string_view name, const etape::tensor<T>& b)
    {
        add(name, false, b.values(), 0);
    }
    template <class T>
    void add(std::string_view name, bool trainable, std::span<const T> values, etape::slot_index slot)
    {
        const auto* first = reinterpret_cast<const unsigned char*>(values.data());
        list.push_back({std::string(name), trainable, bytes(first, first + values.size_bytes()), values.data(), slot});
    }
};

template <class Model>
std::vector<tensor_state> state_of(Model& model)
{
    state_recorder recorder;
    nn::walk(model, recorder);
    return std::move(recorder.list);
}

/// Draws every value of a model from one generator.
struct value_filler {
    nn::random_generator random;
    template <class T>
    void parameter(std::string_view, etape::active_tensor<T>& p)
    {
        draw(p.values());
    }
    template <class T>
    void buffer(std::string_view, etape::tensor<T>& b)
    {
        draw(b.values());
    }
    template <class T>
    void draw(std::span<T> values)
    {
        for (T& x : values)
            x = random.normal<T>();
    }
};

template <class Model>
void fill(Model& model, std::uint64_t seed)
{
    value_filler filler{nn::random_generator(seed)};
    nn::walk(model, filler);
}

/// The head's first weights (for example) made -0, the smallest
/// subnormal, +inf and a NaN with a payload.
template <class T>
void put_special_values(std::span<T> values)
{
    REQUIRE(values.size() >= 4);
    using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    values[0] = T(-0.0);
    values[1] = std::numeric_limits<T>::denorm_min();
    values[2] = std::numeric_limits<T>::infinity();
    values[3] = std::bit_cast<T>(sizeof(T) == 4 ? bits(0x7fc12345u) : bits(0x7ff8000012345678u));
}

/// "etape::nn::load: <path>: "
std::string prefix(std::string_view operation, const fs::path& path)
{
    return fmt::format("etape::nn::{}: {}: ", operation, path.string());
}

template <class F>
std::string error_of(F&& f)
{
    return etape_test::thrown_by<nn::model_file_error>(std::forward<F>(f)).what();
}

template <class Integer>
void append(bytes& out, Integer value)
{
    for (std::size_t i = 0; i < sizeof(Integer); ++i)
        out.push_back(static_cast<unsigned char>(static_cast<std::uint64_t>(value) >> (8 * i)));
}

/// Writes the file's length into its header, then recomputes the checksum
/// at its end: an edited file that only the fields' checks can refuse.
void reseal(bytes& file)
{
    for (std::size_t i = 0; i < 8; ++i)
        file[12 + i] = static_cast<unsigned char>(std::uint64_t(file.size()) >> (8 * i));
    const std::size_t end = file.size() - 4;
    const std::uint32_t crc = nn::detail::crc32(std::span(file).first(end));
    file.resize(end);
    append(file, crc);
}

/// Where each tensor of a file starts, and how long its name is, from the
/// documented layout: name length (4), name, kind, dtype, rank (1 each),
/// extents (8 each), values.
struct tensor_layout {
    std::string name;
    std::size_t start, name_end, end;
};

struct layout_recorder {
    std::size_t element_size;
    std::size_t at = 24;
    std::vector<tensor_layout> list{};
    template <class Tensor>
    void parameter(std::string_view name, const Tensor& t)
    {
        add(name, t.shape());
    }
    template <class Tensor>
    void buffer(std::string_view name, const Tensor& t)
    {
        add(name, t.shape());
    }
    void add(std::string_view name, const etape::shape& s)
    {
        const std::size_t start = at, name_end = at + 4 + name.size();
        at = name_end + 3 + 8 * s.rank() + element_size * s.size();
        list.push_back({std::string(name), start, name_end, at});
    }
};

template <class Model>
std::vector<tensor_layout> layout_of(Model& model, std::size_t element_size)
{
    layout_recorder recorder{element_size};
    nn::walk(model, recorder);
    return std::move(recorder.list);
}

} // namespace

TEST_CASE("crc32: the CRC-32 of zlib and PNG, at any length and alignment, in parts or at once")
{
    constexpr std::array<unsigned char, 9> check{'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    static_assert(nn::detail::crc32(check) == 0xCBF43926u); // the catalogued check value of CRC-32
    static_assert(nn::detail::crc32(std::span<const unsigned char>()) == 0);
    CHECK(nn::detail::crc32(std::span(check).subspan(4), nn::detail::crc32(std::span(check).first(4))) ==
          0xCBF43926u);

    // against the definition, one bit at a time: every length to 40 from every alignment, and a long run
    const auto bitwise = [](std::span<const unsigned char> data) {
        std::uint32_t crc = 0xFFFFFFFFu;
        for (const unsigned char b : data) {
            crc ^= b;
            for (int bit = 0; bit < 8; ++bit)
                crc = (crc >> 1) ^ ((crc & 1u) != 0 ? 0xEDB88320u : 0u);
        }
        return ~crc;
    };
    nn::random_generator random(5);
    bytes data(10000);
    for (unsigned char& b : data)
        b = static_cast<unsigned char>(random());
    for (std::size_t start = 0; start < 8; ++start)
        for (std::size_t length = 0; length <= 40; ++length) {
            const auto part = std::span(data).subspan(start, length);
            CHECK(nn::detail::crc32(part) == bitwise(part));
        }
    CHECK(nn::detail::crc32(data) == bitwise(data));
#if defined(ETAPE_HAS_ZLIB) && ETAPE_HAS_ZLIB
    CHECK(nn::detail::crc32(data) == ::crc32(0, data.data(), static_cast<uInt>(data.size())));
#endif
}

TEST_CASE_TEMPLATE("save and load: every tensor comes back bit for bit, in place, in the tensors' own slots", T,
                   float, double)
{
    etape::tape_scope<T> scope;
    scratch_folder folder;
    const fs::path path = folder / "model.etape";
    classifier<T> saved = make_classifier<T>(4, 6, 3);
    fill(saved, 1);
    put_special_values(saved.head.weight.values());
    put_special_values(saved.body.input.variance.values());
    nn::save(saved, path);
    CHECK(folder.entries() == std::set<std::string>{"model.etape"});

    classifier<T> loaded = make_classifier<T>(4, 6, 3);
    fill(loaded, 2);
    const std::vector<tensor_state> before = state_of(loaded);
    nn::load(loaded, path);
    const std::vector<tensor_state> after = state_of(loaded), want = state_of(saved);
    REQUIRE(after.size() == 9);
    for (std::size_t i = 0; i < after.size(); ++i) {
        CAPTURE(after[i].name);
        CHECK(after[i].name == want[i].name);
        CHECK(after[i].values == want[i].values);         // bit for bit, NaN payload and -0 included
        CHECK(after[i].data == before[i].data);            // written in place
        CHECK(after[i].first_slot == before[i].first_slot); // the parameters keep their slots
    }
    CHECK(after[8].name == "temperature");
    CHECK(!after[8].trainable);

    // the loaded model saves to the same bytes; a save replaces the old file
    const fs::path copy = folder / "copy.etape";
    nn::save(loaded, copy);
    CHECK(read_bytes(copy) == read_bytes(path));
    fill(loaded, 3);
    nn::save(loaded, copy);
    CHECK(read_bytes(copy) != read_bytes(path));
    classifier<T> again = make_classifier<T>(4, 6, 3);
    nn::load(again, copy);
    CHECK(state_of(again)[0].values == state_of(loaded)[0].values);
    CHECK(folder.entries() == std::set<std::string>{"copy.etape", "model.etape"}); // no temporary file left
}

TEST_CASE_TEMPLATE("save: the format of docs/nn.md, byte by byte", T, float, double)
{
    etape::tape_scope<T> scope;
    scratch_folder folder;
    tiny<T> model{nn::dense<T>(2, 1), etape::tensor<T>(etape::shape{}, {T(3)}), etape::tensor<T>({0})};
    model.layer.weight.values()[0] = T(1.5);
    model.layer.weight.values()[1] = T(-2);
    model.layer.bias.values()[0] = T(0.25);
    nn::save(model, folder / "tiny.etape");

    constexpr std::size_t s = sizeof(T);
    const unsigned char dtype = s == 4 ? 1 : 2;
    const auto values = [&](bytes& out, std::initializer_list<T> xs) {
        for (const T x : xs)
            append(out, std::bit_cast<std::conditional_t<s == 4, std::uint32_t, std::uint64_t>>(x));
    };
    const std::size_t length = 24 + (4 + 12 + 3 + 16 + 2 * s) + (4 + 10 + 3 + 8 + s) + (4 + 5 + 3 + s) +
                               (4 + 5 + 3 + 8) + 4;
    bytes want{0x89, 'e', 't', 'a', 'p', 'e', '\r', '\n'};
    append(want, std::uint32_t(1));      // version
    append(want, std::uint64_t(length)); // the file's length
    append(want, std::uint32_t(4));      // tensors
    append(want, std::uint32_t(12));
    want.insert(want.end(), {'l', 'a', 'y', 'e', 'r', '.', 'w', 'e', 'i', 'g', 'h', 't'});
    want.insert(want.end(), {0, dtype, 2}); // parameter, dtype, rank 2
    append(want, std::uint64_t(1));
    append(want, std::uint64_t(2));
    values(want, {T(1.5), T(-2)});
    append(want, std::uint32_t(10));
    want.insert(want.end(), {'l', 'a', 'y', 'e', 'r', '.', 'b', 'i', 'a', 's'});
    want.insert(want.end(), {0, dtype, 1});
    append(want, std::uint64_t(1));
    values(want, {T(0.25)});
    append(want, std::uint32_t(5));
    want.insert(want.end(), {'s', 'c', 'a', 'l', 'e'});
    want.insert(want.end(), {1, dtype, 0}); // buffer, rank 0: one value, no extents
    values(want, {T(3)});
    append(want, std::uint32_t(5));
    want.insert(want.end(), {'e', 'm', 'p', 't', 'y'});
    want.insert(want.end(), {1, dtype, 1}); // buffer [0]: no values
    append(want, std::uint64_t(0));
    REQUIRE(want.size() == length - 4);
    append(want, nn::detail::crc32(want));
    CHECK(read_bytes(folder / "tiny.etape") == want);

    tiny<T> other{nn::dense<T>(2, 1), etape::tensor<T>(etape::shape{}), etape::tensor<T>({0})};
    nn::load(other, folder / "tiny.etape");
    CHECK(other.layer.weight.values()[1] == T(-2));
    CHECK(other.scale.values()[0] == T(3));
}

TEST_CASE("load: a model of another dtype, shape or architecture is refused and left as it was")
{
    etape::tape_scope<float> float_scope;
    etape::tape_scope<double> double_scope;
    scratch_folder folder;
    const fs::path path = folder / "model.etape", without_head = folder / "headless.etape";
    classifier<float> saved = make_classifier<float>(4, 6, 3);
    fill(saved, 1);
    nn::save(saved, path);
    headless<float> body_only{make_encoder<float>(4, 6)};
    nn::save(body_only, without_head);

    const auto refused = [&](auto& model, const fs::path& file, std::string_view problem) {
        fill(model, 7);
        const auto before = state_of(model);
        CHECK(error_of([&] { nn::load(model, file); }) == prefix("load", file) + std::string(problem));
        CHECK(state_of(model) == before);
    };
    classifier<double> wider_type = make_classifier<double>(4, 6, 3);
    refused(wider_type, path, "tensor 0 'body.layers.0.weight' is float32 in the file, the model holds float64");
    classifier<float> narrower = make_classifier<float>(4, 5, 3);
    refused(narrower, path,
            "tensor 0 is 'body.layers.0.weight' [6, 4] in the file, the model has 'body.layers.0.weight' [5, 4]");
    classifier<float> other_head = make_classifier<float>(4, 6, 2);
    refused(other_head, path, "tensor 6 is 'head.weight' [3, 6] in the file, the model has 'head.weight' [2, 6]");
    two_layers<float> other_architecture{nn::dense<float>(4, 6), nn::dense<float>(6, 3)};
    refused(other_architecture, path,
            "tensor 0 is 'body.layers.0.weight' [6, 4] in the file, the model has 'first.weight' [6, 4]");
    trained_temperature<float> trained{make_encoder<float>(4, 6), nn::dense<float>(6, 3),
                                       etape::active_tensor<float>(etape::tensor<float>(etape::shape{}))};
    refused(trained, path, "tensor 8 'temperature' is a buffer in the file, a parameter in the model");
    headless<float> smaller{make_encoder<float>(4, 6)};
    refused(smaller, path, "the file holds 9 tensors, the model 6: the file's 'head.weight' [3, 6] is not in the model");
    classifier<float> larger = make_classifier<float>(4, 6, 3);
    refused(larger, without_head,
            "the file holds 6 tensors, the model 9: the model's 'head.weight' [3, 6] is not in the file");
}

TEST_CASE("load: every damaged byte is refused, by the check its section has, and the model is left as it was")
{
    etape::tape_scope<float> scope;
    scratch_folder folder;
    const fs::path path = folder / "model.etape", damaged = folder / "damaged.etape";
    classifier<float> model = make_classifier<float>(2, 2, 1);
    fill(model, 1);
    nn::save(model, path);
    const bytes file = read_bytes(path);
    REQUIRE(file.size() == layout_of(model, 4).back().end + 4);

    classifier<float> target = make_classifier<float>(2, 2, 1);
    fill(target, 2);
    const auto before = state_of(target);
    const std::string start = prefix("load", damaged);
    std::size_t refused = 0;
    for (std::size_t at = 0; at < file.size(); ++at) {
        // every single bit, and the whole byte
        for (const unsigned flip : {0x01u, 0x02u, 0x04u, 0x08u, 0x10u, 0x20u, 0x40u, 0x80u, 0xFFu}) {
            bytes copy = file;
            copy[at] = static_cast<unsigned char>(copy[at] ^ flip);
            write_bytes(damaged, copy);
            const std::string message = error_of([&] { nn::load(target, damaged); });
            CAPTURE(at);
            CAPTURE(message);
            REQUIRE(message.starts_with(start));
            const std::string_view problem = std::string_view(message).substr(start.size());
            if (at < 8)
                CHECK(problem.starts_with("not an etape model file: it starts with "));
            else if (at < 12)
                CHECK(problem.ends_with(", this build reads version 1"));
            else if (at < 20) // the length: the file seems truncated, or to go on after its end
                CHECK((problem.starts_with("truncated at byte ") || problem.find(" after the end of the model (") !=
                                                                         std::string_view::npos));
            else
                CHECK(problem.starts_with("checksum mismatch: the file is damaged"));
            ++refused;
        }
    }
    CHECK(refused == 9 * file.size());
    CHECK(state_of(target) == before);
}

TEST_CASE("load: a file cut at every length is refused, naming the byte and the section, and changes nothing")
{
    etape::tape_scope<double> scope;
    scratch_folder folder;
    const fs::path path = folder / "model.etape", cut = folder / "cut.etape";
    classifier<double> model = make_classifier<double>(2, 3, 2);
    fill(model, 1);
    nn::save(model, path);
    const bytes file = read_bytes(path);
    const std::vector<tensor_layout> layout = layout_of(model, 8);
    REQUIRE(file.size() == layout.back().end + 4);

    classifier<double> target = make_classifier<double>(2, 3, 2);
    fill(target, 2);
    const auto before = state_of(target);
    for (std::size_t length = 0; length < file.size(); ++length) {
        std::string section = "the checksum";
        if (length < 24)
            section = "the header";
        for (std::size_t i = 0; i < layout.size(); ++i) {
            if (length >= layout[i].start && length < layout[i].name_end)
                section = fmt::format("the name of tensor {}", i);
            else if (length >= layout[i].name_end && length < layout[i].end)
                section = "tensor '" + layout[i].name + "'";
        }
        write_bytes(cut, std::span(file).first(length));
        CAPTURE(length);
        CHECK(error_of([&] { nn::load(target, cut); }) ==
              prefix("load", cut) + fmt::format("truncated at byte {} (in {})", length, section));
    }
    CHECK(state_of(target) == before);

    // and a file that goes on after its end
    bytes longer = file;
    longer.push_back(0);
    write_bytes(cut, longer);
    CHECK(error_of([&] { nn::load(target, cut); }) ==
          prefix("load", cut) + fmt::format("1 byte after the end of the model (its header gives its length as {} bytes)",
                                            file.size()));
    longer.insert(longer.end(), 99, 0);
    write_bytes(cut, longer);
    CHECK(error_of([&] { nn::load(target, cut); }) ==
          prefix("load", cut) +
              fmt::format("100 bytes after the end of the model (its header gives its length as {} bytes)",
                          file.size()));
    CHECK(state_of(target) == before);
}

TEST_CASE("load: another version, another kind of file, and fields that a sound checksum cannot excuse")
{
    etape::tape_scope<float> scope;
    scratch_folder folder;
    const fs::path path = folder / "model.etape", edited = folder / "edited.etape";
    classifier<float> model = make_classifier<float>(2, 2, 1);
    fill(model, 1);
    nn::save(model, path);
    const bytes file = read_bytes(path);
    const std::vector<tensor_layout> layout = layout_of(model, 4);
    classifier<float> target = make_classifier<float>(2, 2, 1);
    fill(target, 2);
    const auto before = state_of(target);

    const auto refused = [&](const bytes& content, std::string_view problem) {
        write_bytes(edited, content);
        CHECK(error_of([&] { nn::load(target, edited); }) == prefix("load", edited) + std::string(problem));
    };
    bytes v2 = file;
    v2[8] = 2;
    reseal(v2);
    refused(v2, "version 2, this build reads version 1");
    refused(bytes{'h', 'e', 'l', 'l', 'o', '\n'},
            "not an etape model file: it starts with 68 65 6c 6c 6f 0a, a model file with 89 65 74 61 70 65 0d 0a");

    // tensor 1, body.layers.0.bias: kind, dtype and rank follow its name
    const std::size_t kind_at = layout[1].name_end;
    bytes edit = file;
    edit[kind_at] = 7;
    reseal(edit);
    refused(edit, fmt::format("tensor 'body.layers.0.bias' has kind 7 (byte {}), where 0 is a parameter and 1 a buffer",
                              kind_at));
    edit = file;
    edit[kind_at + 1] = 3;
    reseal(edit);
    refused(edit, fmt::format("tensor 'body.layers.0.bias' has dtype 3 (byte {}), where 1 is float32 and 2 float64",
                              kind_at + 1));
    edit = file;
    edit[kind_at + 2] = 5;
    reseal(edit);
    refused(edit, fmt::format("tensor 'body.layers.0.bias' has rank 5 (byte {}), at most 4", kind_at + 2));
    edit = file;
    edit[kind_at + 3 + 4] = 1; // the extent 2 becomes 2 + 2^32
    reseal(edit);
    refused(edit, "tensor 'body.layers.0.bias' has extents [4294967298], more elements than a tape holds");

    // bytes between the last tensor and the checksum, or a last tensor that runs into it
    edit = file;
    edit.insert(edit.end() - 4, {0, 0, 0});
    reseal(edit);
    refused(edit, fmt::format("3 bytes between the last tensor and the checksum (from byte {})", layout.back().end));
    edit = file;
    edit.erase(edit.end() - 6, edit.end() - 4);
    reseal(edit);
    refused(edit, fmt::format("tensor 'temperature' runs into the checksum at byte {}", layout.back().end - 2));
    CHECK(state_of(target) == before);
}

TEST_CASE("load: a missing file or a folder is refused, naming the path")
{
    etape::tape_scope<float> scope;
    scratch_folder folder;
    classifier<float> model = make_classifier<float>(2, 2, 1);
    fill(model, 1);
    const auto before = state_of(model);
    const fs::path missing = folder / "missing.etape";
    CHECK(error_of([&] { nn::load(model, missing); }) ==
          prefix("load", missing) + "cannot open it: " + std::generic_category().message(ENOENT));
    CHECK(error_of([&] { nn::load(model, folder.path()); }).starts_with(prefix("load", folder.path()) + "cannot "));
    CHECK(state_of(model) == before);
}

TEST_CASE("save: into a folder that does not exist, onto a folder, or a path that names no file: nothing is left")
{
    etape::tape_scope<float> scope;
    scratch_folder folder;
    classifier<float> model = make_classifier<float>(2, 2, 1);
    fill(model, 1);

    const fs::path nowhere = folder / "absent" / "model.etape";
    CHECK(error_of([&] { nn::save(model, nowhere); }) ==
          prefix("save", nowhere) + "there is no folder " + (folder / "absent").string());
    CHECK(folder.entries().empty());

    // the target is a folder holding a file: the new file is written, cannot replace the folder, and goes
    const fs::path occupied = folder / "model.etape";
    fs::create_directory(occupied);
    write_bytes(occupied / "inside", bytes{1, 2, 3});
    CHECK(error_of([&] { nn::save(model, occupied); })
              .starts_with(prefix("save", occupied) + "cannot put the new file in its place: "));
    CHECK(fs::is_directory(occupied));
    CHECK(read_bytes(occupied / "inside") == bytes{1, 2, 3});
    CHECK(folder.entries() == std::set<std::string>{"model.etape"});

    const fs::path no_file = folder.path() / "";
    CHECK(error_of([&] { nn::save(model, no_file); }) == prefix("save", no_file) + "the path names a folder, not a file");
}

#ifdef ETAPE_TEST_HAS_FILE_SIZE_LIMIT
TEST_CASE("save: a write that fails half way leaves the old file as it was, and no temporary file")
{
    etape::tape_scope<float> scope;
    scratch_folder folder;
    const fs::path path = folder / "model.etape";
    classifier<float> model = make_classifier<float>(4, 64, 3); // about 18 KB
    fill(model, 1);
    nn::save(model, path);
    const bytes old = read_bytes(path);
    REQUIRE(old.size() > 16384);

    // the file size limit makes the write fail with EFBIG (root ignores permissions, not this)
    fill(model, 2);
    rlimit limit{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &limit) == 0);
    const rlimit saved_limit = limit;
    limit.rlim_cur = 8192;
    const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    std::string message;
    try {
        nn::save(model, path);
    } catch (const nn::model_file_error& e) {
        message = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &saved_limit);
    std::signal(SIGXFSZ, previous_handler);

    CAPTURE(message);
    CHECK(message.starts_with(prefix("save", path) + "writing the temporary file " + path.string() + ".tmp-"));
    CHECK(message.ends_with(std::generic_category().message(EFBIG)));
    CHECK(read_bytes(path) == old);
    CHECK(folder.entries() == std::set<std::string>{"model.etape"});
}
#endif
