// etape: reverse-mode automatic differentiation with expression templates.
// The umbrella header: the scalar engine (etape/scalar.hpp), tensors and
// their formatters. Networks are in etape/nn.hpp.
#pragma once

#include <etape/scalar.hpp>

#include <etape/tensor.hpp>
#include <etape/io/tensor_format.hpp>
