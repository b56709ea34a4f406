// The walk over a model: every tensor of a plain user struct, found at
// compile time through Boost.Hana, with its dotted name. Layer: nn (every
// model-wide operation, from parameters() to save(), is a walk).
//
// A model is made of:
//   - active tensors: trainable parameters ("l1.weight");
//   - value tensors: state that is saved but not trained (batch
//     normalisation's running statistics), called buffers;
//   - reflected structs (BOOST_HANA_DEFINE_STRUCT, BOOST_HANA_ADAPT_STRUCT),
//     walked member by member under the member's name;
//   - std::array, std::vector, std::tuple and hana::tuple of these, and
//     nn::sequential, walked element by element under the index ("blocks.0");
//   - numbers, enums, empty types and layers without tensors (they declare
//     `static constexpr bool holds_no_tensors = true`), which hold none.
// Anything else among a reflected struct's members is a compile error: a
// forgotten BOOST_HANA_DEFINE_STRUCT would otherwise hide parameters.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/ext/std/tuple.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/members.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

template <class... L>
class sequential;

namespace detail {

template <class M>
inline constexpr bool is_std_array = false;
template <class E, std::size_t N>
inline constexpr bool is_std_array<std::array<E, N>> = true;

template <class M>
inline constexpr bool is_std_vector = false;
template <class E, class A>
inline constexpr bool is_std_vector<std::vector<E, A>> = true;

template <class M>
inline constexpr bool is_tuple = false;
template <class... E>
inline constexpr bool is_tuple<std::tuple<E...>> = true;
template <class... E>
inline constexpr bool is_tuple<boost::hana::tuple<E...>> = true;

template <class M>
inline constexpr bool is_sequential = false;
template <class... L>
inline constexpr bool is_sequential<sequential<L...>> = true;

template <class M>
inline constexpr bool is_active_tensor = false;
template <class T>
inline constexpr bool is_active_tensor<active_tensor<T>> = true;

template <class M>
inline constexpr bool is_value_tensor = false;
template <class T>
inline constexpr bool is_value_tensor<tensor<T>> = true;

template <class M>
inline constexpr bool is_reflected = boost::hana::Struct<M>::value;

} // namespace detail

/// A member that holds no tensor and is skipped by the walk.
template <class M>
concept holds_no_tensors = std::is_arithmetic_v<M> || std::is_enum_v<M> || std::is_empty_v<M> ||
                           std::same_as<M, std::string> || requires { requires M::holds_no_tensors; };

/// A type the walk knows how to take apart.
template <class M>
concept walkable = detail::is_active_tensor<M> || detail::is_value_tensor<M> || detail::is_reflected<M> ||
                   detail::is_std_array<M> || detail::is_std_vector<M> || detail::is_tuple<M> ||
                   detail::is_sequential<M> || holds_no_tensors<M>;

namespace detail {

/// Appends `part` to `path` with a dot; returns the old length to restore.
inline std::size_t enter(std::string& path, std::string_view part)
{
    const std::size_t old = path.size();
    if (!path.empty())
        path += '.';
    path += part;
    return old;
}

template <class M, class Visitor>
void walk(M& m, std::string& path, Visitor& visit);

template <class Tuple, class Visitor>
void walk_indexed(Tuple& elements, std::string& path, Visitor& visit)
{
    std::size_t index = 0;
    boost::hana::for_each(elements, [&](auto& element) {
        const std::size_t old = enter(path, std::to_string(index++));
        walk(element, path, visit);
        path.resize(old);
    });
}

/// Visits every tensor of m (and every object on the way, for visitors
/// with a `layer(path, object)` member) in declaration order.
template <class M, class Visitor>
void walk(M& m, std::string& path, Visitor& visit)
{
    using U = std::remove_cv_t<M>;
    static_assert(walkable<U>,
                  "etape::nn: a member of a model is neither a tensor, a reflected struct "
                  "(BOOST_HANA_DEFINE_STRUCT or BOOST_HANA_ADAPT_STRUCT), a std::array, std::vector, std::tuple or "
                  "hana::tuple of them, a number, nor a layer that declares holds_no_tensors: reflect it, or declare "
                  "it outside BOOST_HANA_DEFINE_STRUCT");
    if constexpr (is_active_tensor<U>) {
        visit.parameter(std::string_view(path), m);
    } else if constexpr (is_value_tensor<U>) {
        if constexpr (requires { visit.buffer(std::string_view(path), m); })
            visit.buffer(std::string_view(path), m);
    } else if constexpr (std::is_class_v<U> && !std::same_as<U, std::string>) {
        if constexpr (requires { visit.layer(std::string_view(path), m); })
            visit.layer(std::string_view(path), m);
        if constexpr (is_reflected<U>) {
            boost::hana::for_each(boost::hana::accessors<U>(), [&](auto accessor) {
                const std::size_t old = enter(path, boost::hana::to<const char*>(boost::hana::first(accessor)));
                walk(boost::hana::second(accessor)(m), path, visit);
                path.resize(old);
            });
        } else if constexpr (is_std_array<U> || is_std_vector<U>) {
            for (std::size_t i = 0; i < m.size(); ++i) {
                const std::size_t old = enter(path, std::to_string(i));
                walk(m[i], path, visit);
                path.resize(old);
            }
        } else if constexpr (is_tuple<U>) {
            walk_indexed(m, path, visit);
        } else if constexpr (is_sequential<U>) {
            walk_indexed(m.layers(), path, visit);
        }
    }
}

/// The precision of a model's tensors (void when it holds none).
template <class M>
struct precision_of {
    using type = void;
};

template <class... M>
struct first_precision {
    using type = void;
};
template <class M, class... R>
struct first_precision<M, R...> {
    using type = std::conditional_t<std::is_void_v<typename precision_of<M>::type>,
                                    typename first_precision<R...>::type, typename precision_of<M>::type>;
};

template <class T>
struct precision_of<active_tensor<T>> {
    using type = T;
};
template <class T>
struct precision_of<tensor<T>> {
    using type = T;
};
template <class E, std::size_t N>
struct precision_of<std::array<E, N>> : precision_of<E> {};
template <class E, class A>
struct precision_of<std::vector<E, A>> : precision_of<E> {};
template <class... E>
struct precision_of<std::tuple<E...>> : first_precision<E...> {};
template <class... E>
struct precision_of<boost::hana::tuple<E...>> : first_precision<E...> {};
template <class... L>
struct precision_of<sequential<L...>> : first_precision<L...> {};

template <class Members>
struct precision_of_members;
template <class... E>
struct precision_of_members<boost::hana::tuple<E...>> : first_precision<E...> {};

template <class M>
    requires is_reflected<M>
struct precision_of<M> : precision_of_members<decltype(boost::hana::members(std::declval<M>()))> {};

} // namespace detail

/// The floating-point type of a model's tensors.
template <class M>
using precision_t = typename detail::precision_of<std::remove_cvref_t<M>>::type;

/// Walks every tensor of `model` in declaration order, with its dotted
/// name: `visitor.parameter(name, active_tensor&)` for each parameter,
/// `visitor.buffer(name, tensor&)` for each buffer and
/// `visitor.layer(name, object&)` for each struct on the way, where the
/// visitor has those members. A const model gives const tensors.
template <class Model, class Visitor>
void walk(Model& model, Visitor&& visitor)
{
    std::string path;
    detail::walk(model, path, visitor);
}

} // namespace etape::nn
