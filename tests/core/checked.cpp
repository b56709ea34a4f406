// Misuse in the checked build mode (ETAPE_CHECKED=1) is a clear tape_error.
#include <future>
#include <thread>

#include "support/check.hpp"

static_assert(etape::checked_build, "this file tests the checked build mode");

TEST_CASE("a var used after its recording was rewound")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    etape::var<double> w = 1.0; // survives: recorded before the position
    const auto start = t.position();
    etape::var<double> x = 2.0;
    const etape::var<double> y = x * w;
    t.rewind(start);
    CHECK_THROWS_WITH_AS(etape::var<double>(x * 2.0), doctest::Contains("after its recording was rewound"),
                         etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(y, w), etape::tape_error);
    // even when the slot number has been reused by a new recording
    etape::var<double> reused = 5.0;
    CHECK(reused.slot() == x.slot());
    CHECK_THROWS_AS(etape::var<double>(x + reused), etape::tape_error);
    CHECK_NOTHROW(etape::var<double>(w * reused));
}

TEST_CASE("a rewound var's += does not extend the statement that took over its slot")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    etape::var<double> x = 2.0;
    const auto start = t.position();
    etape::var<double> stale = x * x; // the only var of its slot, the last statement
    t.rewind(start);
    const etape::var<double> fresh = x * 3.0; // the same slot number, now the last statement
    REQUIRE(fresh.slot() == stale.slot());
    CHECK_THROWS_WITH_AS(stale += x, doctest::Contains("after its recording was rewound"), etape::tape_error);
    CHECK_THROWS_AS(stale -= 1.0, etape::tape_error);
    CHECK(t.stats().operands == 1);
    CHECK(etape::gradient(fresh, x)[0] == 3.0);
}

TEST_CASE("a var of another thread's tape")
{
    std::promise<etape::var<double>> made;
    std::promise<void> done;
    std::thread other([&] {
        made.set_value(etape::var<double>(3.0)); // on the other thread's default tape
        done.get_future().wait();                // keep that tape alive meanwhile
    });
    const etape::var<double> foreign = made.get_future().get();
    etape::var<double> local = 1.0;
    CHECK_THROWS_WITH_AS(etape::var<double>(foreign * local), doctest::Contains("another tape"), etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(local, foreign), etape::tape_error);
    done.set_value();
    other.join();
}

TEST_CASE("a var of an inner scope's tape used on the outer tape")
{
    etape::var<double> outer = 1.0;
    etape::var<double> inner;
    {
        etape::tape_scope<double> scope;
        inner = etape::var<double>(2.0);
        CHECK_THROWS_AS(etape::var<double>(outer * 2.0), etape::tape_error); // outer is not on the inner tape
    }
    CHECK_THROWS_AS(etape::var<double>(inner * 2.0), etape::tape_error);
}

TEST_CASE("bound_to rejects slots outside the recording")
{
    etape::tape_scope<double> scope;
    CHECK_THROWS_AS((void)etape::var<double>::bound_to(scope.get(), 42, 1.0), etape::tape_error);
}
