// etape's tensor layer: value and active tensors, fused elementwise
// expressions, reductions. Included by etape/etape.hpp.
#pragma once

#include <etape/tensor/shape.hpp>
#include <etape/tensor/tensor.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/fused_kernel.hpp>
#include <etape/tensor/slice.hpp>
#include <etape/tensor/roll.hpp>
#include <etape/tensor/gradient.hpp>
#include <etape/tensor/node_input.hpp>
#include <etape/tensor/matmul.hpp>
#include <etape/tensor/axis.hpp>
#include <etape/tensor/reduce.hpp>
#include <etape/tensor/softmax.hpp>
#include <etape/tensor/shape_ops.hpp>
#include <etape/tensor/conv2d.hpp>
#include <etape/tensor/pooling.hpp>
