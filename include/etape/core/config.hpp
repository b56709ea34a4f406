// Build-wide settings of etape: the slot index type and the checked build mode.
// Layer: core (included by every other header).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

/// ETAPE_CHECKED=1 makes every var remember its tape and recording epoch, so
/// that using a var after its recording was rewound, or on another thread's
/// tape, throws etape::tape_error instead of silently reading a wrong slot.
/// It defaults to on when NDEBUG is not defined. Define it the same way in
/// every translation unit of a program: it changes the layout of var. A
/// program whose translation units disagree stops before main with a
/// message that says so (detail::build_mode_check).
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

namespace etape::detail {

/// The ETAPE_CHECKED of the program: that of the first translation unit
/// initialised, -1 before.
inline int& program_build_mode() noexcept
{
    static int mode = -1;
    return mode;
}

/// Compares the ETAPE_CHECKED of one translation unit with the program's;
/// on a mismatch, writes which is which to stderr and aborts: vars of one
/// layout read as the other would give wrong gradients without a word.
struct build_mode_check {
    explicit build_mode_check(int checked) noexcept
    {
        int& mode = program_build_mode();
        if (mode < 0)
            mode = checked;
        else if (mode != checked) {
            std::fprintf(stderr,
                         "etape: this program mixes translation units compiled with ETAPE_CHECKED=%d and "
                         "ETAPE_CHECKED=%d; var's layout differs between them. Define ETAPE_CHECKED the same "
                         "way everywhere (or NDEBUG, which sets its default).\n",
                         mode, checked);
            std::abort();
        }
    }
};

} // namespace etape::detail

namespace {
// One per translation unit, run before main.
const etape::detail::build_mode_check etape_build_mode_of_this_translation_unit{ETAPE_CHECKED};
} // namespace
