// Typed reads of TOML values with diagnostics, and small formatting helpers.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/detail.hpp"
#include "os/paths.hpp"
#include "config/units.hpp"
#include "config/validate.hpp"

namespace arbor::config::detail {

source_pos context::pos(const toml::source_region& at) const {
  return source_pos{file, static_cast<uint32_t>(at.begin.line),
                    static_cast<uint32_t>(at.begin.column)};
}

void context::error(const toml::source_region& at, std::string message) {
  errors.push_back(diagnostic{pos(at), std::move(message)});
}

const toml::source_region& entry::key_source() const {
  if (key_node && key_node->source().begin.line > 0) return key_node->source();
  return value->source();
}

std::vector<entry> in_file_order(const toml::table& t) {
  std::vector<entry> out;
  for (auto&& [k, v] : t) out.push_back(entry{k.str(), &k, &v});
  auto before = [](const toml::source_position& a, const toml::source_position& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  };
  // A table's key is where it was first written (e.g. [web.api] before [web]).
  auto first = [&](const entry& e) {
    const auto& k = e.key_source().begin;
    const auto& v = e.value->source().begin;
    if (v.line == 0) return k;
    return before(v, k) ? v : k;
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const entry& a, const entry& b) { return before(first(a), first(b)); });
  return out;
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
  case toml::node_type::string: return "string";
  case toml::node_type::integer: return "integer";
  case toml::node_type::floating_point: return "float";
  case toml::node_type::boolean: return "boolean";
  case toml::node_type::array: return "array";
  case toml::node_type::table: return "table";
  case toml::node_type::date: return "date";
  case toml::node_type::time: return "time";
  case toml::node_type::date_time: return "date-time";
  default: return "nothing";
  }
}

namespace {

std::string quote(std::string_view key) { return "'" + std::string{key} + "'"; }

std::string wrong_type(std::string_view key, const char* expected, const toml::node& n) {
  return quote(key) + " must be " + expected + ", got " + type_name(n);
}

std::string unit_words(millis bare_unit) {
  if (bare_unit == millis{1000}) return "a number of seconds or a string like \"10s\"";
  return "a number of milliseconds or a string like \"5s\"";
}

} // namespace

std::optional<std::string> get_string(context& cx, const toml::node& n, std::string_view key) {
  if (auto s = n.as_string()) return s->get();
  cx.error(n, wrong_type(key, "a string", n));
  return std::nullopt;
}

std::optional<bool> get_bool(context& cx, const toml::node& n, std::string_view key) {
  if (auto b = n.as_boolean()) return b->get();
  cx.error(n, wrong_type(key, "true or false", n));
  return std::nullopt;
}

std::optional<int64_t> get_integer(context& cx, const toml::node& n, std::string_view key,
                                   int64_t min, int64_t max) {
  int64_t value = 0;
  if (auto i = n.as_integer()) {
    value = i->get();
  } else if (auto f = n.as_floating_point()) {
    double d = f->get();
    if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9.0e15) {
      cx.error(n, quote(key) + " must be an integer, got " + format_number(d));
      return std::nullopt;
    }
    value = static_cast<int64_t>(d);
  } else {
    cx.error(n, wrong_type(key, "an integer", n));
    return std::nullopt;
  }
  if (value < min || value > max) {
    cx.error(n, range_message(key, min, max, value));
    return std::nullopt;
  }
  return value;
}

std::optional<millis> get_duration(context& cx, const toml::node& n, std::string_view key,
                                   millis bare_unit) {
  if (auto s = n.as_string()) {
    std::string error;
    auto d = parse_duration(s->get(), bare_unit, error);
    if (!d) cx.error(n, quote(key) + ": " + error);
    return d;
  }
  double value = 0;
  if (auto i = n.as_integer()) {
    value = static_cast<double>(i->get());
  } else if (auto f = n.as_floating_point()) {
    value = f->get();
  } else {
    cx.error(n, quote(key) + " must be a duration (" + unit_words(bare_unit) + "), got "
                  + type_name(n));
    return std::nullopt;
  }
  if (!std::isfinite(value) || value < 0) {
    cx.error(n, quote(key) + " must not be negative");
    return std::nullopt;
  }
  double ms = value * static_cast<double>(bare_unit.count());
  if (ms > 4.0e18) {
    cx.error(n, quote(key) + " is too large");
    return std::nullopt;
  }
  return millis{static_cast<int64_t>(std::llround(ms))};
}

std::optional<uint64_t> get_size(context& cx, const toml::node& n, std::string_view key) {
  if (auto s = n.as_string()) {
    std::string error;
    auto v = parse_size(s->get(), error);
    if (!v) cx.error(n, quote(key) + ": " + error);
    return v;
  }
  if (n.is_integer() || n.is_floating_point()) {
    auto v = get_integer(cx, n, key, 0, std::numeric_limits<int64_t>::max());
    if (!v) return std::nullopt;
    return static_cast<uint64_t>(*v);
  }
  cx.error(n, quote(key) + " must be a size (bytes or a string like \"512M\"), got "
                + type_name(n));
  return std::nullopt;
}

std::optional<std::string> read_whole_file(const std::string& path, std::string& error,
                                           int open_flags) {
  // Non-blocking open: a FIFO must not hang the reader; only regular files.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | open_flags);
  if (fd < 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = S_ISDIR(st.st_mode) ? std::strerror(EISDIR) : "not a regular file";
    ::close(fd);
    return std::nullopt;
  }
  constexpr size_t max_size = 16u << 20; // a config is kilobytes; refuse /dev/zero-like input
  std::string out;
  char buf[65536];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_size) {
      error = "larger than 16 MiB";
      ::close(fd);
      return std::nullopt;
    }
  }
  ::close(fd);
  return out;
}

// (os/paths.hpp, not std::filesystem: the daemon links this loader, and
// libstdc++'s filesystem pages would stay resident in it.)
std::string absolute_path(const std::string& base, std::string_view path) {
  std::string p{path};
  if (p.empty() || p[0] != '/') p = base + "/" + p;
  auto s = os::absolute(p); // already absolute: only made lexically normal
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string format_number(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  if (ec != std::errc{}) return "?";
  return std::string{buf, end};
}

} // namespace arbor::config::detail
