// The tape nodes of the GRU and LSTM cells: a step's gates computed over
// rows (sigmoid and tanh on SIMD batches), and a reverse that runs row by
// row from the saved gates. nn/recurrent.hpp's cells record them.
// Layer: nn.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <utility>

#include <etape/core/simd.hpp>
#include <etape/ops/hyperbolic.hpp>
#include <etape/ops/logistic.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/contribution.hpp>
#include <etape/tensor/node_input.hpp>

namespace etape::nn {

/// An LSTM's state: the hidden state h (its output) and the cell state c,
/// both [batch, hidden], or [hidden] for a single sample.
template <std::floating_point T>
struct lstm_state {
    active_tensor<T> h;
    active_tensor<T> c;
};

namespace detail {

using etape::detail::node_input;
using etape::detail::stores_input;

/// p[k] = Op::primal(p[k]) for k < n (a gate's sigmoid_op or tanh_op), on
/// SIMD batches when T allows.
template <class Op, class T>
void primal_in_place(T* p, std::size_t n) noexcept
{
    std::size_t k = 0;
    if constexpr (simd::enabled_for<T>) {
        using V = simd::batch<T>;
        for (; k + V::size <= n; k += V::size)
            simd::store(p + k, Op::primal(simd::load<V>(p + k)));
    }
    for (; k < n; ++k)
        p[k] = Op::primal(p[k]);
}

/// Adds d[0, n) into the adjoints of `in` from element `offset`, or stores
/// them there when the sweep's plan made this node their first writer.
template <class T>
void give_adjoints(const node_input<T>& in, bool store, T* adjoints, std::size_t offset, const T* __restrict d,
                   std::size_t n) noexcept
{
    if (!in.active)
        return;
    T* __restrict a = in.adjoints(adjoints) + offset;
    if (store) // 0 + d, as the plain sweep's clear and add: -0 arrives as +0 both ways
        for (std::size_t k = 0; k < n; ++k)
            a[k] = T(0) + d[k];
    else
        for (std::size_t k = 0; k < n; ++k)
            a[k] += d[k];
}

/// One row of the LSTM cell's reverse, from the saved gates and tanh(c'):
///   dc~ = dc' + dh' o (1 - tanh^2 c')       (the new cell state's total adjoint)
///   da_i = dc~ g i (1 - i)    da_f = dc~ c f (1 - f)
///   da_g = dc~ i (1 - g^2)    da_o = dh' tanh(c') o (1 - o)
///   dc = dc~ f
/// Every array a restrict parameter of its own, and the function out of
/// line: g++ vectorized none of it written as offsets into one row inside
/// the loop over rows, nor inlined (where it drops the restrict).
template <class T>
[[gnu::noinline]] void lstm_row_gradients(std::size_t h, const T* __restrict dh_next, const T* __restrict dc_next,
                                          const T* __restrict i, const T* __restrict f, const T* __restrict g,
                                          const T* __restrict o, const T* __restrict tanh_c, const T* __restrict c,
                                          T* __restrict da_i, T* __restrict da_f, T* __restrict da_g,
                                          T* __restrict da_o, T* __restrict dc) noexcept
{
    for (std::size_t j = 0; j < h; ++j) {
        const T total = dc_next[j] + dh_next[j] * o[j] * (T(1) - tanh_c[j] * tanh_c[j]);
        da_i[j] = total * g[j] * i[j] * (T(1) - i[j]);
        da_f[j] = total * c[j] * f[j] * (T(1) - f[j]);
        da_g[j] = total * i[j] * (T(1) - g[j] * g[j]);
        da_o[j] = dh_next[j] * tanh_c[j] * o[j] * (T(1) - o[j]);
        dc[j] = total * f[j];
    }
}

/// Reverse of the LSTM cell node, row by row (lstm_row_gradients): da goes
/// to both projections (x W_ih^T and h W_hh^T) and both biases, dc to c.
template <class T>
struct lstm_cell_reverse {
    node_input<T> gx, gh, bias_ih, bias_hh, c;
    const T* gates;  // [rows, 4 hidden]: i, f, g, o after their activations
    const T* tanh_c; // [rows, hidden]
    T* work;         // one row's da (4 hidden) and dc (hidden)
    std::size_t rows, hidden;

    void operator()(T* adjoints, slot_index, first_writes stores, const T* out) const noexcept
    {
        const std::size_t h = hidden, width = 4 * h;
        T* const da = work;
        T* const dc = work + width;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* gate = gates + r * width;
            lstm_row_gradients(h, out + r * h, out + (rows + r) * h, gate, gate + h, gate + 2 * h, gate + 3 * h,
                               tanh_c + r * h, c.values + r * h, da, da + h, da + 2 * h, da + 3 * h, dc);
            give_adjoints(gx, stores_input(stores, 0), adjoints, r * width, da, width);
            give_adjoints(gh, stores_input(stores, 1), adjoints, r * width, da, width);
            give_adjoints(bias_ih, false, adjoints, 0, da, width);
            give_adjoints(bias_hh, false, adjoints, 0, da, width);
            give_adjoints(c, stores_input(stores, 4), adjoints, r * h, dc, h);
        }
    }
};

/// One row of the GRU cell's reverse, from the saved gates and hn = W_hn h + b_hn:
///   dn = dh' (1 - z)    dz = dh' (h - n)    dh = dh' z
///   da_n = dn (1 - n^2)    da_r = da_n hn r (1 - r)    da_z = dz z (1 - z)
/// and da_hn = da_n r, n's part on the state's side (arrays apart, as for the LSTM).
template <class T>
[[gnu::noinline]] void gru_row_gradients(std::size_t w, const T* __restrict dh_next, const T* __restrict r,
                                         const T* __restrict z, const T* __restrict n, const T* __restrict hn,
                                         const T* __restrict h, T* __restrict da_r, T* __restrict da_z,
                                         T* __restrict da_n, T* __restrict da_hn, T* __restrict dh) noexcept
{
    for (std::size_t j = 0; j < w; ++j) {
        const T dan = dh_next[j] * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
        da_r[j] = dan * hn[j] * r[j] * (T(1) - r[j]);
        da_z[j] = dh_next[j] * (h[j] - n[j]) * z[j] * (T(1) - z[j]);
        da_n[j] = dan;
        da_hn[j] = dan * r[j];
        dh[j] = dh_next[j] * z[j];
    }
}

/// Reverse of the GRU cell node, row by row (gru_row_gradients): the
/// input's side gets (da_r, da_z, da_n), the state's side (da_r, da_z,
/// da_hn): the reset gate scales only the state's part of n.
template <class T>
struct gru_cell_reverse {
    node_input<T> gx, gh, bias_ih, bias_hh, h;
    const T* gates;    // [rows, 3 hidden]: r, z, n after their activations
    const T* hidden_n; // [rows, hidden]: hn
    T* work;           // one row's input-side da (3 hidden), da_hn (hidden) and dh (hidden)
    std::size_t rows, hidden;

    void operator()(T* adjoints, slot_index, first_writes stores, const T* out) const noexcept
    {
        const std::size_t w = hidden, width = 3 * w;
        T* const da = work;
        T* const da_hn = work + width;
        T* const dh = work + width + w;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* gate = gates + r * width;
            gru_row_gradients(w, out + r * w, gate, gate + w, gate + 2 * w, hidden_n + r * w, h.values + r * w, da,
                              da + w, da + 2 * w, da_hn, dh);
            give_adjoints(gx, stores_input(stores, 0), adjoints, r * width, da, width);
            give_adjoints(bias_ih, false, adjoints, 0, da, width);
            // the state's side: r and z as the input's, then n's part through hn
            const bool store_gh = stores_input(stores, 1);
            give_adjoints(gh, store_gh, adjoints, r * width, da, 2 * w);
            give_adjoints(gh, store_gh, adjoints, r * width + 2 * w, da_hn, w);
            give_adjoints(bias_hh, false, adjoints, 0, da, 2 * w);
            give_adjoints(bias_hh, false, adjoints, 2 * w, da_hn, w);
            give_adjoints(h, stores_input(stores, 4), adjoints, r * w, dh, w);
        }
    }
};

/// The inputs of a gated cell node as the tape's plan sees them: the two
/// projections and the state, which the reverse writes whole, are storable.
template <class T>
std::array<node_input_slots, 5> gated_cell_inputs(const std::array<const node_input<T>*, 5>& in)
{
    std::array<node_input_slots, 5> slots{};
    for (std::size_t k = 0; k < 5; ++k)
        slots[k] = in[k]->slots();
    slots[0].storable = slots[1].storable = slots[4].storable = true;
    return slots;
}

/// The LSTM cell node: from gx = x W_ih^T and gh = h W_hh^T ([rows, 4
/// hidden] each, gates i, f, g, o), the biases and the cell state c, with
/// a = (gx + b_ih) + (gh + b_hh):
///   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
///   c' = f c + i g    h' = o tanh(c')
/// One node of 2 rows hidden outputs, h' then c', shaped as `state`.
template <class T>
[[nodiscard]] lstm_state<T> lstm_cell_node(node_input<T> gx, node_input<T> gh, node_input<T> bias_ih,
                                           node_input<T> bias_hh, node_input<T> c, const shape& state)
{
    const std::size_t h = c.shape.last(), rows = c.shape.size() / std::max<std::size_t>(h, 1), width = 4 * h;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(2 * rows * h);
    T* gates = t.template allocate_scratch<T>(rows * width);
    T* tanh_c = t.template allocate_scratch<T>(rows * h);
    T* work = t.template allocate_scratch<T>(width + h);
    for (std::size_t r = 0; r < rows; ++r) {
        T* __restrict a = gates + r * width;
        const T* __restrict x_part = gx.values + r * width;
        const T* __restrict h_part = gh.values + r * width;
        for (std::size_t j = 0; j < width; ++j)
            a[j] = (x_part[j] + bias_ih.values[j]) + (h_part[j] + bias_hh.values[j]);
        primal_in_place<sigmoid_op>(a, 2 * h); // i, f
        primal_in_place<tanh_op>(a + 2 * h, h);
        primal_in_place<sigmoid_op>(a + 3 * h, h);
        const T* __restrict c_prev = c.values + r * h;
        T* __restrict h_next = y + r * h;
        T* __restrict c_next = y + (rows + r) * h;
        T* __restrict tc = tanh_c + r * h;
        for (std::size_t j = 0; j < h; ++j)
            c_next[j] = a[h + j] * c_prev[j] + a[j] * a[2 * h + j];
        std::copy_n(c_next, h, tc);
        primal_in_place<tanh_op>(tc, h);
        for (std::size_t j = 0; j < h; ++j)
            h_next[j] = a[3 * h + j] * tc[j];
    }
    const std::array<node_operand<T>, 5> operands{gx.operand(), gh.operand(), bias_ih.operand(), bias_hh.operand(),
                                                  c.operand()};
    const std::array<node_input_slots, 5> written = gated_cell_inputs<T>({&gx, &gh, &bias_ih, &bias_hh, &c});
    const slot_index first = t.record_node(
        2 * rows * h,
        lstm_cell_reverse<T>{std::move(gx), std::move(gh), std::move(bias_ih), std::move(bias_hh), std::move(c), gates,
                             tanh_c, work, rows, h},
        {"lstm_cell", operands}, std::span<const node_input_slots>(written));
    return {active_tensor<T>(y, state, first, t),
            active_tensor<T>(y + rows * h, state, first + static_cast<slot_index>(rows * h), t)};
}

/// The GRU cell node: from gx = x W_ih^T and gh = h W_hh^T ([rows, 3
/// hidden] each, gates r, z, n), the biases and the state h:
///   r = sigmoid((gx_r + b_ir) + (gh_r + b_hr))   z likewise
///   n = tanh((gx_n + b_in) + r hn)   with hn = gh_n + b_hn
///   h' = (h - n) z + n               (= (1 - z) n + z h)
/// One node of rows hidden outputs, shaped as h.
template <class T>
[[nodiscard]] active_tensor<T> gru_cell_node(node_input<T> gx, node_input<T> gh, node_input<T> bias_ih,
                                             node_input<T> bias_hh, node_input<T> h)
{
    const std::size_t w = h.shape.last(), rows = h.shape.size() / std::max<std::size_t>(w, 1), width = 3 * w;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(rows * w);
    T* gates = t.template allocate_scratch<T>(rows * width);
    T* hidden_n = t.template allocate_scratch<T>(rows * w);
    T* work = t.template allocate_scratch<T>(width + 2 * w);
    for (std::size_t r = 0; r < rows; ++r) {
        T* __restrict a = gates + r * width;
        T* __restrict hn = hidden_n + r * w;
        const T* __restrict x_part = gx.values + r * width;
        const T* __restrict h_part = gh.values + r * width;
        for (std::size_t j = 0; j < 2 * w; ++j)
            a[j] = (x_part[j] + bias_ih.values[j]) + (h_part[j] + bias_hh.values[j]);
        primal_in_place<sigmoid_op>(a, 2 * w); // r, z
        for (std::size_t j = 0; j < w; ++j) {
            hn[j] = h_part[2 * w + j] + bias_hh.values[2 * w + j];
            a[2 * w + j] = (x_part[2 * w + j] + bias_ih.values[2 * w + j]) + a[j] * hn[j];
        }
        primal_in_place<tanh_op>(a + 2 * w, w);
        const T* __restrict h_prev = h.values + r * w;
        T* __restrict h_next = y + r * w;
        for (std::size_t j = 0; j < w; ++j)
            h_next[j] = (h_prev[j] - a[2 * w + j]) * a[w + j] + a[2 * w + j];
    }
    const shape state = h.shape;
    const std::array<node_operand<T>, 5> operands{gx.operand(), gh.operand(), bias_ih.operand(), bias_hh.operand(),
                                                  h.operand()};
    const std::array<node_input_slots, 5> written = gated_cell_inputs<T>({&gx, &gh, &bias_ih, &bias_hh, &h});
    const slot_index first = t.record_node(
        rows * w,
        gru_cell_reverse<T>{std::move(gx), std::move(gh), std::move(bias_ih), std::move(bias_hh), std::move(h), gates,
                            hidden_n, work, rows, w},
        {"gru_cell", operands}, std::span<const node_input_slots>(written));
    return active_tensor<T>(y, state, first, t);
}

} // namespace detail

} // namespace etape::nn
