// Exception types thrown by etape.
// Layer: core.
#pragma once

#include <stdexcept>

namespace etape {

/// Misuse of a tape: a var used after its recording was rewound, a var of
/// another tape, a gradient asked of a var that is not on the active tape.
class tape_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

} // namespace etape
