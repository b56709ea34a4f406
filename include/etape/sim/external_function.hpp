// External functions: a block of a simulation (a linear solve, a library
// call, a whole solver) that the tape does not see inside. Its outputs are
// computed by plain code and recorded as ONE node whose reverse is the
// user's hand-written adjoint: given the outputs' adjoints, it adds the
// inputs' adjoints. Whatever the adjoint needs from the forward pass (a
// factorisation, the outputs) the callback captures. Layer: sim.
//
//     const active_tensor<double> next = etape::sim::external<double>(
//         "tridiagonal solve", {u, r}, next_values,
//         [=](const etape::sim::external_adjoints<double>& a) {
//             ... a.output() ... a.input(0)[i] += ...; a.input(1)[0] += ...;
//         });
//
// In the checked build (ETAPE_CHECKED=1), the callback writes into zeroed
// copies of its inputs' adjoints framed by guard values, which are added
// to the tape afterwards: a write outside an input's adjoints (past its
// end or before its start, through a pointer) is found there and reported
// as external_function_error, naming the function and the input, instead
// of corrupting another value's gradient without a word.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/core/config.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/var.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::sim {

/// A misuse of an external function: a reverse callback that wrote outside
/// its inputs' adjoints (checked build), or outputs of the wrong size.
class external_function_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// An input of an external function: an active tensor or a var, on the
/// active tape.
template <std::floating_point T>
class external_input {
public:
    external_input(const active_tensor<T>& x) : first_(x.first_slot()), size_(x.size()), values_(x.data()) // NOLINT
    {
        x.check_on(active_tape<T>());
    }

    /// A var: one element (a passive var's adjoint goes to the tape's passive sink).
    external_input(const var<T>& x) : first_(x.slot()), size_(1), value_(x.value()) // NOLINT
    {
        x.check_on(active_tape<T>());
    }

    [[nodiscard]] slot_index first_slot() const noexcept { return first_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    /// Its values at recording (the var's value is copied to the tape).
    [[nodiscard]] const T* values() const noexcept { return values_ != nullptr ? values_ : &value_; }

private:
    slot_index first_;
    std::size_t size_;
    const T* values_ = nullptr;
    T value_ = 0;
};

/// What the reverse callback of an external function sees: the adjoints of
/// its outputs (read only) and those of each input, in the order given,
/// which it adds into (never assigns: other nodes add there too).
template <std::floating_point T>
class external_adjoints {
public:
    external_adjoints(std::span<const T> output, std::span<const std::span<T>> inputs)
        : output_(output), inputs_(inputs)
    {
    }

    [[nodiscard]] std::span<const T> output() const noexcept { return output_; }

    /// The adjoints of input `k` (std::out_of_range past the last input).
    [[nodiscard]] std::span<T> input(std::size_t k) const
    {
        if (k >= inputs_.size())
            throw std::out_of_range("etape::sim::external_adjoints: input " + std::to_string(k) + " of " +
                                    std::to_string(inputs_.size()));
        return inputs_[k];
    }

    [[nodiscard]] std::size_t input_count() const noexcept { return inputs_.size(); }

private:
    std::span<const T> output_;
    std::span<const std::span<T>> inputs_;
};

namespace detail {

/// Guard values on each side of an input's adjoints in the checked build.
inline constexpr std::size_t external_guard = 64;

/// A NaN with a payload of its own: a guard that still holds it was not written.
template <class T>
[[nodiscard]] T guard_value() noexcept
{
    if constexpr (sizeof(T) == sizeof(std::uint64_t))
        return std::bit_cast<T>(std::uint64_t{0x7ff4e7a9e0000bad});
    else if constexpr (sizeof(T) == sizeof(std::uint32_t))
        return std::bit_cast<T>(std::uint32_t{0x7fa5dbad});
    else
        return T(-1234.5678); // long double: a value no adjoint arithmetic leaves there by chance
}

template <class T>
[[nodiscard]] bool is_guard(T v) noexcept
{
    const T g = guard_value<T>();
    if constexpr (sizeof(T) == sizeof(std::uint64_t))
        return std::bit_cast<std::uint64_t>(v) == std::bit_cast<std::uint64_t>(g);
    else if constexpr (sizeof(T) == sizeof(std::uint32_t))
        return std::bit_cast<std::uint32_t>(v) == std::bit_cast<std::uint32_t>(g);
    else
        return v == g;
}

/// The node of an external function: its inputs' slots and the callback.
template <class T, class Reverse>
struct external_reverse {
    std::string_view name;
    std::size_t outputs;
    std::span<const node_input_slots> inputs; // in the tape's arena
    Reverse reverse;

    void operator()(T* adjoints, slot_index, first_writes, const T* output_adjoints) const
    {
        const std::span<const T> out(output_adjoints, outputs);
        if constexpr (checked_build)
            run_guarded(adjoints, out);
        else
            run_in_place(adjoints, out);
    }

private:
    void run_in_place(T* adjoints, std::span<const T> out) const
    {
        constexpr std::size_t on_stack = 8;
        std::array<std::span<T>, on_stack> few;
        std::vector<std::span<T>> many(inputs.size() > on_stack ? inputs.size() : 0);
        const std::span<std::span<T>> views = many.empty() ? std::span(few).first(inputs.size()) : std::span(many);
        for (std::size_t k = 0; k < inputs.size(); ++k)
            views[k] = {adjoints + inputs[k].first, inputs[k].count};
        reverse(external_adjoints<T>(out, views));
    }

    /// The checked build: zeroed copies with guards, checked, then added.
    void run_guarded(T* adjoints, std::span<const T> out) const
    {
        std::vector<std::vector<T>> copies(inputs.size());
        std::vector<std::span<T>> views(inputs.size());
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            copies[k].assign(inputs[k].count + 2 * external_guard, guard_value<T>());
            std::fill_n(copies[k].begin() + external_guard, inputs[k].count, T(0));
            views[k] = {copies[k].data() + external_guard, inputs[k].count};
        }
        reverse(external_adjoints<T>(out, views));
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            const std::vector<T>& c = copies[k];
            const std::size_t end = external_guard + inputs[k].count;
            for (std::size_t g = 0; g < c.size(); g = (g + 1 == external_guard ? end : g + 1))
                if (!is_guard(c[g]))
                    throw external_function_error(
                        "etape::sim::external: the reverse of '" + std::string(name) + "' wrote " +
                        (g < external_guard ? etape::detail::counted(external_guard - g, "element") + " before"
                                            : etape::detail::counted(g - end + 1, "element") + " past the end of") +
                        " the adjoints of its input " + std::to_string(k) + " (" +
                        etape::detail::counted(inputs[k].count, "element") + "): outside what it declared");
        }
        for (std::size_t k = 0; k < inputs.size(); ++k)
            for (std::size_t i = 0; i < inputs[k].count; ++i)
                adjoints[inputs[k].first + i] += views[k][i];
    }
};

} // namespace detail

/// Records an external function: `outputs` are its values, computed by the
/// caller's own code from the inputs' values; `reverse(const
/// external_adjoints<T>&)` is its adjoint, called by the reverse sweep; it
/// adds d(loss)/d(input k) into `input(k)` given d(loss)/d(output) in
/// `output()`. Returns the outputs as a new active tensor of the outputs'
/// shape: one node, whose declared inputs are exactly the inputs' slots.
/// `name` names it in errors and in anomaly mode and must outlive the tape
/// (a literal). The callback is kept until the tape is rewound past the node.
template <std::floating_point T, class Reverse>
    requires std::invocable<const Reverse&, const external_adjoints<T>&>
[[nodiscard]] active_tensor<T> external(std::string_view name, std::initializer_list<external_input<T>> inputs,
                                        const tensor<T>& outputs, Reverse reverse)
{
    tape<T>& t = active_tape<T>();
    const std::size_t n = outputs.size();
    auto* declared = t.template allocate_scratch<node_input_slots>(inputs.size());
    std::vector<node_operand<T>> operands;
    operands.reserve(inputs.size());
    std::size_t k = 0;
    for (const external_input<T>& in : inputs) {
        declared[k++] = {in.first_slot(), static_cast<slot_index>(in.size()), false};
        T* kept = t.template allocate_scratch<T>(in.size()); // a var's value outlives the call in anomaly reports
        std::copy_n(in.values(), in.size(), kept);
        operands.push_back({in.first_slot(), in.size(), kept});
    }
    T* y = t.template allocate_scratch<T>(n);
    std::copy(outputs.values().begin(), outputs.values().end(), y);
    const std::span<const node_input_slots> slots(declared, inputs.size());
    detail::external_reverse<T, Reverse> node{name, n, slots, std::move(reverse)};
    const slot_index first =
        t.record_node(n, std::move(node), {name, std::span<const node_operand<T>>(operands)}, slots);
    return active_tensor<T>(y, outputs.shape(), first, t);
}

} // namespace etape::sim
