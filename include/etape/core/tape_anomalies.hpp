// A tape's anomaly mode: the notes it keeps beside the recording (each
// statement's text and operand values, each labelled node's name and inputs,
// the contexts that name layers), the checks a sweep makes with them and the
// reports it throws. Layer: core (a layer of the tape, see tape.hpp).
//
// The sweep checks every adjoint it writes (tape::sweep_range) and throws
// anomaly_error at the first NaN or inf; everything here but the switch is
// off the recording's and the sweep's fast paths.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <etape/core/anomaly.hpp>
#include <etape/core/config.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/tape_storage.hpp>

namespace etape {

template <class T>
class tape;

namespace detail {

template <class T>
class tape_anomalies : public tape_storage<T> {
protected: // what this layer uses of the ones below, for the layers above too
    using storage = tape_storage<T>;
    using typename storage::node;
    using storage::adjoints_, storage::operands_, storage::nodes_, storage::extendable_;

public:
    using storage::storage;

    [[nodiscard]] bool detecting_anomalies() const noexcept { return anomaly_mode_; }

    /// Anomaly mode: names what is recorded from now on (a layer's dotted
    /// name, "encoder.l2"), so that a report ends "in encoder.l2"; returns
    /// the context to restore afterwards (anomaly_context does both). Off,
    /// it does nothing and returns 0.
    std::uint32_t enter_anomaly_context(std::string_view name)
    {
        if (!anomaly_mode_) [[likely]]
            return 0;
        const std::uint32_t previous = context_;
        const auto known = std::find(contexts_.begin(), contexts_.end(), name); // a model's few layer names
        context_ = static_cast<std::uint32_t>(known - contexts_.begin());
        if (known == contexts_.end())
            contexts_.emplace_back(name);
        return previous;
    }
    void leave_anomaly_context(std::uint32_t previous) noexcept { context_ = anomaly_mode_ ? previous : 0; }

protected:
    /// tape::detect_anomalies's switch.
    void set_anomaly_mode(bool on) noexcept
    {
        anomaly_mode_ = on;
        extendable_ = 0; // nothing recorded before the switch is extended after it
    }

    static constexpr const char* unlabelled_writer =
        "by a node without a label (record_node's node_label) or recorded before anomaly mode was on";

    [[nodiscard]] static std::string text_of(T v) { return std::isnan(v) ? "NaN" : number_text(v); }

    /// A non-finite adjoint in [bottom, top) that no check saw being written.
    void check_range(slot_index bottom, slot_index top, const char* when) const
    {
        const T* adj = adjoints_.data();
        for (slot_index s = bottom; s < top; ++s)
            if (!std::isfinite(adj[s])) [[unlikely]]
                throw anomaly_error("etape anomaly: the adjoint of slot " + std::to_string(s) + " is " +
                                        text_of(adj[s]) + ", written " + when,
                                    "", {}, std::nullopt, s);
    }

    [[noreturn]] [[gnu::cold]] void report_statement(slot_index s, std::size_t k, std::uint32_t start,
                                                     std::uint32_t stop) const
    {
        const slot_index target = operands_.second()[start + k];
        const T adjoint = adjoints_.data()[s];
        std::string operation;
        std::vector<long double> values;
        const auto note = std::lower_bound(statement_notes_.begin(), statement_notes_.end(), s,
                                           [](const statement_note& n, slot_index v) { return n.slot < v; });
        const bool noted = note != statement_notes_.end() && note->slot == s;
        if (noted) {
            note->describe(operation);
            for (std::size_t i = 0; i < note->count; ++i)
                values.push_back(noted_values_[note->first_value + i]);
        }
        std::string report = "etape anomaly: the adjoint of slot " + std::to_string(target) + " became " +
                             text_of(adjoints_.data()[target]) + " in the reverse of statement " +
                             std::to_string(s) + (noted ? " `" + operation + "`" : std::string()) + ": operand a" +
                             std::to_string(k) + " (slot " + std::to_string(target) + ") has partial " +
                             text_of(operands_.first()[start + k]) + ", the statement's adjoint is " +
                             text_of(adjoint);
        if (noted) {
            report += "; operands when recorded:";
            for (std::size_t i = 0; i < values.size(); ++i)
                report += " a" + std::to_string(i) + " = " + text_of(static_cast<T>(values[i])) +
                          (i + 1 < values.size() ? "," : "");
        } else {
            report += " (" + std::to_string(stop - start) +
                      " operands; recorded before anomaly mode was on, so no text or values)";
        }
        throw anomaly_error(report + in_context(noted ? note->context : 0), std::move(operation), std::move(values),
                            std::nullopt, target);
    }

    /// After a labelled node's reverse: the first non-finite adjoint among
    /// its inputs, reported with the node's name and the element.
    void check_node_inputs(std::size_t index) const
    {
        const auto note = std::lower_bound(node_notes_.begin(), node_notes_.end(), index,
                                           [](const node_note<T>& n, std::size_t v) { return n.node < v; });
        if (note == node_notes_.end() || note->node != index)
            return;
        const T* adj = adjoints_.data();
        for (std::size_t input = 0; input < note->inputs.size(); ++input) {
            const node_operand<T>& in = note->inputs[input];
            if (in.first == 0)
                continue; // a value tensor: no adjoints
            for (std::size_t i = 0; i < in.size; ++i)
                if (!std::isfinite(adj[in.first + i])) [[unlikely]]
                    report_node(*note, input, i);
        }
    }

    [[noreturn]] [[gnu::cold]] void report_node(const node_note<T>& note, std::size_t input,
                                                std::size_t element) const
    {
        const node& n = nodes_[note.node];
        const node_operand<T>& in = note.inputs[input];
        const slot_index target = static_cast<slot_index>(in.first + element);
        std::string operation(note.name);
        if (note.describe) {
            operation += ' ';
            note.describe(operation);
        }
        std::vector<long double> values;
        std::string listed;
        const auto list = [&](std::size_t k, const node_operand<T>& o, std::size_t at) {
            if (o.values == nullptr || o.size == 0)
                return;
            const T v = o.values[at % o.size];
            values.push_back(v);
            listed += (listed.empty() ? " a" : ", a") + std::to_string(k) + " = " + text_of(v);
        };
        if (note.elementwise)
            for (std::size_t k = 0; k < note.inputs.size(); ++k)
                list(k, note.inputs[k], element);
        else
            list(input, in, element);
        std::string report = "etape anomaly: the adjoint of element " + std::to_string(element) + " of input a" +
                             std::to_string(input) + " (slot " + std::to_string(target) + ") became " +
                             text_of(adjoints_.data()[target]) + " in the reverse of node `" + operation +
                             "` (output slots " + std::to_string(n.first) + " to " + std::to_string(n.end - 1) + ")";
        if (!listed.empty())
            report += "; operands at that element when recorded:" + listed;
        throw anomaly_error(report + in_context(note.context), std::move(operation), std::move(values), element,
                            target);
    }

    /// " in <context>" for a noted context, "" for none.
    [[nodiscard]] std::string in_context(std::uint32_t context) const
    {
        return context == 0 ? std::string() : " in " + contexts_[context];
    }

    /// Drops the notes of statements at slot `slots` or above and of nodes
    /// from index `nodes` on (a rewind's).
    void forget_notes_after(slot_index slots, std::size_t nodes)
    {
        while (!statement_notes_.empty() && statement_notes_.back().slot >= slots)
            statement_notes_.pop_back();
        noted_values_.resize(statement_notes_.empty()
                                 ? 0
                                 : statement_notes_.back().first_value + statement_notes_.back().count);
        while (!node_notes_.empty() && node_notes_.back().node >= nodes)
            node_notes_.pop_back();
    }

    bool anomaly_mode_ = false;
    std::vector<statement_note> statement_notes_; // anomaly mode only
    std::vector<T> noted_values_;
    std::vector<node_note<T>> node_notes_;
    std::vector<std::string> contexts_{std::string()}; // anomaly contexts; 0 is none
    std::uint32_t context_ = 0;
};

} // namespace detail

/// While it lives, anomaly reports name `name` for what `t` records
/// (tape::enter_anomaly_context). What a layer's forward holds.
template <class T>
class anomaly_context {
public:
    anomaly_context(tape<T>& t, std::string_view name) : tape_(t), previous_(t.enter_anomaly_context(name)) {}
    anomaly_context(const anomaly_context&) = delete;
    anomaly_context& operator=(const anomaly_context&) = delete;
    ~anomaly_context() { tape_.leave_anomaly_context(previous_); }

private:
    tape<T>& tape_;
    std::uint32_t previous_;
};

} // namespace etape
