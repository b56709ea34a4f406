// Test helper: a fresh folder for the files a test writes.
#pragma once

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

namespace etape_test {

/// A new folder under the system's temporary folder, removed with all it
/// holds when the test ends. Its name is random: doctest cases may run as
/// parallel processes, and each gets its own.
class scratch_folder {
public:
    scratch_folder()
    {
        std::random_device device;
        path_ = std::filesystem::temp_directory_path() /
                ("etape-test-" + std::to_string(device()) + "-" + std::to_string(device()));
        std::filesystem::create_directory(path_);
    }
    scratch_folder(const scratch_folder&) = delete;
    scratch_folder& operator=(const scratch_folder&) = delete;
    ~scratch_folder()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    /// The names of the entries in the folder.
    [[nodiscard]] std::set<std::string> entries() const
    {
        std::set<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(path_))
            names.insert(entry.path().filename().string());
        return names;
    }

private:
    std::filesystem::path path_;
};

} // namespace etape_test
