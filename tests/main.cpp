// doctest's runner for the suite's test programs. ctest runs each test
// case as `program --test-case=NAME`. A NAME that matches no test case (a
// case renamed, or a name that CMake's list syntax cut in two at a ';')
// would run nothing and pass, so a run whose filters select no test case
// fails here, naming the filters.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

/// Whether a run of test cases ended (not a query such as
/// --list-test-cases), and how many cases its filters selected.
bool run_ended = false;
unsigned selected_test_cases = 0;

/// A doctest listener that only keeps that count.
struct selection_counter : doctest::IReporter {
    explicit selection_counter(const doctest::ContextOptions&) {}

    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& stats) override
    {
        run_ended = true;
        selected_test_cases = stats.numTestCasesPassingFilters;
    }
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("selection_counter", 0, selection_counter);

} // namespace

int main(int argc, char** argv)
{
    doctest::Context context(argc, argv);
    const int failed = context.run();
    if (failed != 0 || context.shouldExit() || !run_ended || selected_test_cases > 0)
        return failed;
    std::fprintf(stderr, "%s: no test case matches the filters:", argc > 0 ? argv[0] : "test program");
    for (int i = 1; i < argc; ++i)
        std::fprintf(stderr, " \"%s\"", argv[i]);
    std::fprintf(stderr, "\n");
    return 1;
}
