// io::atomic_file: a file replaced whole or not at all, and no temporary
// file left behind whatever happens.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <etape/io/atomic_file.hpp>

#include "support/check.hpp"
#include "support/scratch_folder.hpp"

namespace {

std::string contents_of(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

/// The whole round: made, written, committed.
void write_whole(const std::filesystem::path& target, std::string_view text)
{
    etape::io::atomic_file file(target);
    file.write(text);
    file.commit();
}

/// What a write that throws says, or "" when it does not throw.
template <class Write>
std::string failure_of(Write write)
{
    try {
        write();
    } catch (const etape::io::file_write_failure& failure) {
        return failure.what();
    }
    return "";
}

} // namespace

TEST_CASE("atomic_file: commit replaces the target whole, and before it the target is as it was")
{
    const etape_test::scratch_folder folder;
    const std::filesystem::path target = folder / "table.csv";
    write_whole(target, "a,b\n");
    CHECK(contents_of(target) == "a,b\n");

    etape::io::atomic_file second(target);
    second.write("c,d\n");
    const unsigned char bytes[] = {'1', ',', '2', '\n'};
    second.write(bytes);
    // written but not committed: the target still holds the old contents, and
    // the new ones wait in the one temporary file beside it
    CHECK(contents_of(target) == "a,b\n");
    const std::set<std::string> during = folder.entries();
    REQUIRE(during.size() == 2);
    const std::string temporary = *during.rbegin();
    CHECK(temporary.starts_with("table.csv.tmp-"));
    CHECK(temporary.size() == std::string("table.csv.tmp-").size() + 16);
    second.commit();
    CHECK(contents_of(target) == "c,d\n1,2\n");
    CHECK(folder.entries() == std::set<std::string>{"table.csv"});

    // once committed, it is closed: a misuse, not a write into nothing
    CHECK_THROWS_WITH_AS(second.write("late"), doctest::Contains("atomic_file::write: the file of"), std::logic_error);
    CHECK_THROWS_AS(second.commit(), std::logic_error);
    CHECK(contents_of(target) == "c,d\n1,2\n");
}

TEST_CASE("atomic_file: destroyed before commit, it leaves the target as it was and removes its temporary file")
{
    const etape_test::scratch_folder folder;
    const std::filesystem::path target = folder / "model.etape";
    write_whole(target, "old");
    {
        etape::io::atomic_file abandoned(target);
        abandoned.write("new contents, never committed");
    }
    CHECK(contents_of(target) == "old");
    CHECK(folder.entries() == std::set<std::string>{"model.etape"});

    {
        etape::io::atomic_file never_there(folder / "fresh.csv");
    }
    CHECK(folder.entries() == std::set<std::string>{"model.etape"});
}

TEST_CASE("atomic_file: each failure says which step failed and why, and leaves no temporary file")
{
    const etape_test::scratch_folder folder;
    const std::filesystem::path nowhere = folder / "absent" / "x.csv";
    const std::string not_created = failure_of([&] { etape::io::atomic_file file(nowhere); });
    CAPTURE(not_created);
    CHECK(not_created.starts_with("cannot create the temporary file " + nowhere.string() + ".tmp-"));
    CHECK(not_created.ends_with(": " + std::generic_category().message(ENOENT)));

    // the target is a folder with a file in it: the rename cannot replace it
    const std::filesystem::path occupied = folder / "plots";
    std::filesystem::create_directory(occupied);
    std::ofstream(occupied / "inside") << "kept";
    const std::string not_renamed = failure_of([&] { write_whole(occupied, "x"); });
    CAPTURE(not_renamed);
    CHECK(not_renamed.starts_with("cannot put the new file in its place: "));
    CHECK(std::filesystem::is_directory(occupied));
    CHECK(contents_of(occupied / "inside") == "kept");
    CHECK(folder.entries() == std::set<std::string>{"plots"});
}
