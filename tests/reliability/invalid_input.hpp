// What the invalid-input tests share (invalid_input.cpp, the scalar entry
// points; invalid_tensor_input.cpp, the tensor ones).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "support/check.hpp"

namespace invalid_input {

template <class T>
constexpr T nan_v = std::numeric_limits<T>::quiet_NaN();
template <class T>
constexpr T inf_v = std::numeric_limits<T>::infinity();

constexpr std::size_t size_max = std::numeric_limits<std::size_t>::max();

/// A message built at run time, for CHECK_THROWS_WITH_AS.
inline doctest::String text(const std::string& s)
{
    return s.c_str();
}

/// d y / d x of a one-input function at x.
template <class T, class F>
T derivative(F f, T x)
{
    return etape::gradient(f, std::vector<T>{x})[0];
}

/// The value of a one-input function at x.
template <class T, class F>
T value_at(F f, T x)
{
    return etape::value_and_gradient(f, std::vector<T>{x}).first;
}

} // namespace invalid_input
