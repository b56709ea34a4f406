// Build-wide settings of etape: the slot index type and the checked build mode.
// Layer: core (included by every other header).
#pragma once

#include <cstdint>

/// ETAPE_CHECKED=1 makes every var remember its tape and recording epoch, so
/// that using a var after its recording was rewound, or on another thread's
/// tape, throws etape::tape_error instead of silently reading a wrong slot.
/// It defaults to on when NDEBUG is not defined. Define it the same way in
/// every translation unit of a program: it changes the layout of var.
#ifndef ETAPE_CHECKED
#ifdef NDEBUG
#define ETAPE_CHECKED 0
#else
#define ETAPE_CHECKED 1
#endif
#endif

namespace etape {

/// Index of an active value's slot on its tape (and of its adjoint).
using slot_index = std::uint32_t;

/// True in the checked build mode (see ETAPE_CHECKED).
inline constexpr bool checked_build = ETAPE_CHECKED != 0;

} // namespace etape
