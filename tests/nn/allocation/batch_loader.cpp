// A batch_loader allocates its buffers when it is made: an epoch of batches,
// read and used in place, allocates nothing.
#include <cstddef>
#include <utility>

#include <doctest/doctest.h>

#include <etape/nn/batch_loader.hpp>
#include <etape/nn/digits.hpp>

#include "counting_new.hpp"

TEST_CASE_TEMPLATE("batch_loader: epochs after the first allocate nothing", T, float, double)
{
    const etape::nn::data_split<T> digits = etape::nn::digits<T>();
    for (const auto last : {etape::nn::last_batch::keep, etape::nn::last_batch::drop}) {
        const long before_loader = etape_test::allocations();
        etape::nn::batch_loader<T> loader(digits.train, 64, etape::nn::random_generator(5), last);
        CHECK(etape_test::allocations() > before_loader); // the counter sees the buffers made
        const auto epoch = [&] {
            double sum = 0;
            std::size_t rows = 0;
            for (const auto& b : loader.epoch()) {
                sum += static_cast<double>(b.features.values()[0]) + static_cast<double>(b.labels[0]);
                rows += b.labels.size();
            }
            return std::pair{sum, rows};
        };
        (void)epoch();
        const long before = etape_test::allocations();
        const auto [sum, rows] = epoch();
        const auto [sum_again, rows_again] = epoch();
        CHECK(etape_test::allocations() - before == 0);
        CHECK(rows == (last == etape::nn::last_batch::keep ? 1437u : 1408u));
        CHECK(rows_again == rows);
        CHECK(sum != sum_again); // a new order each epoch
    }
}
