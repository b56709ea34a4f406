// etape's scalar engine: var, the tape, gradients, every scalar primitive
// and the fmt formatters for them; no tensors. A program that
// differentiates scalar code includes this rather than etape/etape.hpp, and
// each of its translation units compiles half a second faster
// (docs/compile-time.md).
#pragma once

#include <etape/core/config.hpp>
#include <etape/core/errors.hpp>
#include <etape/core/tape.hpp>
#include <etape/core/active_tape.hpp>
#include <etape/core/expression.hpp>
#include <etape/core/primitive.hpp>
#include <etape/core/unary_expr.hpp>
#include <etape/core/binary_expr.hpp>
#include <etape/core/var.hpp>
#include <etape/core/comparison.hpp>
#include <etape/core/gradient.hpp>
#include <etape/core/gradient_check.hpp>

#include <etape/ops/arithmetic.hpp>
#include <etape/ops/exponential.hpp>
#include <etape/ops/power.hpp>
#include <etape/ops/trigonometric.hpp>
#include <etape/ops/hyperbolic.hpp>
#include <etape/ops/error_function.hpp>
#include <etape/ops/magnitude.hpp>
#include <etape/ops/extremum.hpp>
#include <etape/ops/elu.hpp>
#include <etape/ops/relu.hpp>
#include <etape/ops/logistic.hpp>
#include <etape/ops/gelu.hpp>
#include <etape/ops/elu_activation.hpp>

#include <etape/io/format.hpp>
