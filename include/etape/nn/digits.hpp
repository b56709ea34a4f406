// The 8x8 handwritten digits set (1,797 rows, 10 classes), embedded in
// etape as its default data set, and a reader for its CSV form. Layer: nn.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <etape/core/number_text.hpp>
#include <etape/nn/data/digits_values.hpp>
#include <etape/nn/data/input_file.hpp>
#include <etape/nn/dataset.hpp>
#include <etape/nn/standardise.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// Rows of the digits set that train; the other 360 (the last ones) test.
inline constexpr std::size_t digits_train_rows = 1437;

/// All 1,797 rows of the embedded digits set, as they are: features [1797,
/// 64] with pixel values 0..16 (row by row, top left first), labels 0..9.
/// Data: "Optical Recognition of Handwritten Digits", E. Alpaydin and C.
/// Kaynak, UCI Machine Learning Repository, CC BY 4.0.
template <std::floating_point T>
[[nodiscard]] dataset<T> embedded_digits()
{
    constexpr std::size_t rows = detail::digits_row_count;
    constexpr std::size_t pixels = detail::digits_pixel_count;
    dataset<T> all{etape::tensor<T>(etape::shape{rows, pixels}), std::vector<std::size_t>(rows), 10};
    const auto values = all.features.values();
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c <= pixels; ++c) {
            // one base-17 digit per value: '0'..'9', then 'a'..'g' for 10..16
            const char digit = detail::digits_rows[r][c];
            const int value = digit >= '0' && digit <= '9'   ? digit - '0'
                              : digit >= 'a' && digit <= 'g' ? digit - 'a' + 10
                                                             : -1;
            if (value < 0 || (c == pixels && value > 9))
                throw data_error("etape: the embedded digits set is damaged at row " + std::to_string(r + 1) +
                                 ", column " + std::to_string(c + 1) + " (regenerate it with scripts/embed_digits.py)");
            if (c < pixels)
                values[r * pixels + c] = static_cast<T>(value);
            else
                all.labels[r] = static_cast<std::size_t>(value);
        }
    return all;
}

/// The digits set in its CSV form (data/digits.csv.gz of the repository, or
/// the same rows uncompressed): one row a line, 64 pixel values 0..16 and a
/// label 0..9, separated by commas. Features [rows, 64] as they are. A
/// malformed line throws data_error naming the file, the line and the column.
template <std::floating_point T>
[[nodiscard]] dataset<T> read_digits_csv(const std::string& path)
{
    constexpr std::size_t pixels = 64;
    const std::string text = detail::read_text(path);
    std::vector<T> values;
    std::vector<std::size_t> labels;
    std::size_t line_number = 0;
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        ++line_number;
        std::string_view line(text.data() + start, end - start);
        start = end + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;
        const auto fail = [&](std::size_t column, const std::string& problem) {
            throw data_error("etape: " + path + ", line " + std::to_string(line_number) + ", column " +
                             std::to_string(column + 1) + ": " + problem);
        };
        std::size_t field = 0;
        for (std::size_t at = 0;; ++field) {
            const std::size_t comma = std::min(line.find(',', at), line.size());
            const std::string_view token = line.substr(at, comma - at);
            const bool is_label = field == pixels;
            if (field > pixels)
                fail(at, "more than 65 values (64 pixels, then the label)");
            const int limit = is_label ? 9 : 16;
            int value = 0;
            bool digits_only = !token.empty() && token.size() <= 2;
            for (const char ch : token)
                digits_only = digits_only && ch >= '0' && ch <= '9';
            if (digits_only)
                for (const char ch : token)
                    value = value * 10 + (ch - '0');
            if (!digits_only || value > limit)
                fail(at, std::string(is_label ? "expected a label 0..9" : "expected a pixel value 0..16") +
                             ", found \"" + std::string(token) + "\"");
            if (is_label)
                labels.push_back(static_cast<std::size_t>(value));
            else
                values.push_back(static_cast<T>(value));
            if (comma == line.size())
                break;
            at = comma + 1;
        }
        if (field < pixels)
            fail(line.size(), etape::detail::counted(field + 1, "value") + ", expected 65 (64 pixels, then the label)");
    }
    if (labels.empty())
        throw data_error("etape: " + path + " holds no rows");
    return {etape::tensor<T>(etape::shape{labels.size(), pixels}, values), std::move(labels), 10};
}

/// The embedded digits set split for training: the first 1,437 rows train,
/// the last 360 test, each feature standardised with the training rows'
/// mean and standard deviation (see standardise; the pixels that are always
/// 0 in the training rows stay as they are, centred on 0).
template <std::floating_point T>
[[nodiscard]] data_split<T> digits()
{
    data_split<T> split = split_rows(embedded_digits<T>(), digits_train_rows);
    standardise(split);
    return split;
}

} // namespace etape::nn
