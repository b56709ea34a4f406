// Anomaly mode: what a tape remembers of a recording so that a reverse sweep
// can stop at the first statement or node whose adjoint becomes NaN or inf,
// and the error that names it. Layer: core (used by tape, var and nodes).
//
//     t.detect_anomalies();          // from now on, notes are recorded
//     ... record ...
//     t.sweep(top);                  // throws etape::anomaly_error
//
// Off (the default), recording and sweeping pay one predictable branch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <etape/core/config.hpp>
#include <etape/core/errors.hpp>

namespace etape {

/// Thrown by a sweep in anomaly mode when an adjoint becomes NaN or inf.
/// what() is the whole report; the accessors give its parts.
class anomaly_error : public tape_error {
public:
    anomaly_error(const std::string& report, std::string operation, std::vector<long double> operand_values,
                  std::optional<std::size_t> element, slot_index slot)
        : tape_error(report), operation_(std::move(operation)), operand_values_(std::move(operand_values)),
          element_(element), slot_(slot)
    {
    }

    /// The statement's expression ("exp(a0) * a1", its operands numbered in
    /// recording order) or the node's name ("matmul", "elementwise elu(a0)").
    [[nodiscard]] const std::string& operation() const noexcept { return operation_; }

    /// The operands' values when the statement or node was recorded (for a
    /// tensor node, at the element reported; empty where unknown).
    [[nodiscard]] std::span<const long double> operand_values() const noexcept { return operand_values_; }

    /// For a tensor node: the flat index, in the input whose adjoint became
    /// non-finite, of the offending element.
    [[nodiscard]] std::optional<std::size_t> element() const noexcept { return element_; }

    /// The slot whose adjoint became NaN or inf.
    [[nodiscard]] slot_index slot() const noexcept { return slot_; }

private:
    std::string operation_;
    std::vector<long double> operand_values_;
    std::optional<std::size_t> element_;
    slot_index slot_;
};

/// One input of a tensor node as anomaly mode sees it: the adjoint slots its
/// reverse adds into, and the values it read (may be null).
template <class T>
struct node_operand {
    slot_index first = 0;
    std::size_t size = 0;
    const T* values = nullptr;
};

/// How a node describes itself to anomaly mode (record_node's optional last
/// argument). `name` must outlive the tape (a literal); `describe`, when
/// set, appends a longer text (a fused node's expression). An elementwise
/// node reads element i of each input at i modulo the input's size (the
/// broadcasting rule), so its report lists every operand at that element.
template <class T>
struct node_label {
    std::string_view name;
    std::span<const node_operand<T>> inputs{};
    void (*describe)(std::string&) = nullptr;
    bool elementwise = false;
};

namespace detail {

/// Appends a statement's or node's text to its argument.
using describe_function = void (*)(std::string&);

/// A statement recorded in anomaly mode; its operands' values are
/// values[first_value, first_value + count) of the tape's noted values.
struct statement_note {
    slot_index slot;
    std::size_t first_value; // into the tape's noted values
    std::size_t count;
    describe_function describe;
    std::uint32_t context; // into the tape's anomaly contexts (0: none)
};

/// Nodes recorded in anomaly mode with a label.
template <class T>
struct node_note {
    std::size_t node;
    std::string_view name;
    describe_function describe;
    bool elementwise;
    std::vector<node_operand<T>> inputs;
    std::uint32_t context; // into the tape's anomaly contexts (0: none)
};

/// Writer that collects a statement's operand values in recording order
/// (var::record calls note_value when its writer has one).
template <class T, class Owner>
struct operand_value_collector {
    std::vector<T>* values;
    const Owner* owner;

    void note_value(T v) { values->push_back(v); }
    void push(slot_index, T) noexcept {}
};

} // namespace detail
} // namespace etape
