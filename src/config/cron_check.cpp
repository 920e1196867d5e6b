// Cron validation (the parser in cron.cpp decides) and zoneinfo lookup.

#include "config/cron_check.hpp"

#include <filesystem>
#include <fstream>
#include <vector>

#include "config/cron.hpp"
#include "config/suggest.hpp"
#include "config/timezone.hpp"

namespace arbor::config::detail {

namespace {

void list_zones(const std::filesystem::path& dir, const std::filesystem::path& rel,
                std::vector<std::string>& out, int depth) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename();
    if (name == "posix" || name == "right") continue;
    if (it->is_directory(ec)) {
      if (depth < 3) list_zones(it->path(), rel / name, out, depth + 1);
    } else {
      out.push_back((rel / name).generic_string());
    }
  }
}

} // namespace

std::optional<std::string> cron_error(std::string_view expr) {
  std::string error;
  if (parse_cron(expr, error)) return std::nullopt;
  return error;
}

std::optional<std::string> timezone_error(std::string_view name, const std::string& zoneinfo_dir) {
  if (name == "UTC") return std::nullopt;
  std::string quoted = "'" + std::string{name} + "'";
  if (name.empty()) return std::string{"time zone must not be empty (e.g. \"Europe/Berlin\")"};
  if (name.front() == '/' || name.find("..") != std::string_view::npos)
    return "invalid time zone " + quoted + " (use a zone name such as \"Europe/Berlin\")";
  std::filesystem::path file = std::filesystem::path{zoneinfo_dir} / std::string{name};
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec)) {
    std::ifstream in{file, std::ios::binary};
    char magic[4] = {};
    if (in.read(magic, 4) && std::string_view{magic, 4} == "TZif") {
      // Accepted only if the scheduler can read it, too.
      std::string error;
      if (time_zone::load(std::string{name}, error, zoneinfo_dir)) return std::nullopt;
      return error;
    }
  }
  std::vector<std::string> zones;
  list_zones(zoneinfo_dir, {}, zones, 0);
  std::vector<std::string_view> candidates{zones.begin(), zones.end()};
  return "unknown time zone " + quoted + did_you_mean(name, candidates);
}

} // namespace arbor::config::detail
