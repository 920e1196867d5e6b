// Event lines, error replies, and the one-line answers of the verbs that
// change things (start/stop/restart, scale, signal, apply).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "arbor/event_kind.hpp"
#include "cli/render_detail.hpp"
#include "config/units.hpp"

namespace arbor::cli {

using namespace detail;

namespace {

/// A kind this CLI does not know (a newer daemon's) is shown plain.
const char* event_style(const std::string& kind, const std::string& reason) {
  auto k = parse_event_kind(kind);
  if (!k) return ansi::none;
  switch (*k) {
    case event_kind::child_started:
    case event_kind::ready: return ansi::green;
    case event_kind::spawn_failed:
    case event_kind::gave_up:
    case event_kind::log_error: return ansi::red;
    case event_kind::child_exited: return reason == "exit(0)" ? ansi::none : ansi::yellow;
    case event_kind::backoff:
    case event_kind::restarting:
    case event_kind::spawn_retry:
    case event_kind::stopping:
    case event_kind::killed:
    case event_kind::stays_down:
    case event_kind::keeper_lost:
    case event_kind::daemon_replaced: return ansi::yellow;
    case event_kind::stopped: return ansi::dim;
    default: return ansi::none;
  }
}

std::string iso_time(int64_t at_ns) {
  if (at_ns <= 0) return "";
  time_t secs = static_cast<time_t>(at_ns / 1000000000);
  int ms = static_cast<int>((at_ns / 1000000) % 1000);
  std::tm tm{};
  if (!gmtime_r(&secs, &tm)) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string event_who(const json& ev) {
  auto who = get_str(ev, "offender");
  return who.empty() ? get_str(ev, "supervisor") : who;
}

} // namespace

std::string render_affected(const std::string& verb, const std::string& past, const json& result) {
  auto ids = get_strings(result, "affected");
  if (ids.empty()) return "nothing to " + verb + "\n";
  return past + " " + join(ids, ", ") + "\n";
}

std::string render_progress(const json& item) {
  auto kind = get_str(item, "event");
  auto timeout =
    config::format_duration(std::chrono::milliseconds(get_int(item, "kill_timeout_ms")));
  auto who = event_who(item) + ": ";
  if (kind == "stopping") {
    auto pid = get_int(item, "pid");
    auto sig = get_str(item, "kill_signal");
    return who + "sent " + (sig.empty() ? "kill_signal" : sig)
           + (pid > 0 ? " (pid " + std::to_string(pid) + ")" : "")
           + "; SIGKILL if it has not exited within " + timeout + " (kill_timeout)\n";
  }
  if (kind == "killed")
    return who + "still running after " + timeout + " (kill_timeout): sent SIGKILL\n";
  return "";
}

std::string render_scale(const json& result) {
  auto app = get_str(result, "app");
  auto from = get_int(result, "from"), to = get_int(result, "to");
  auto instances = [](int64_t n) {
    return std::to_string(n) + (n == 1 ? " instance" : " instances");
  };
  if (from == to) return app + " already has " + instances(to) + "\n";
  return "scaled " + app + " from " + std::to_string(from) + " to " + instances(to) + "\n";
}

std::string render_signaled(const std::string& signal, const json& result) {
  std::vector<std::string> parts;
  for (const auto& s : get_array(result, "signaled")) {
    auto id = get_str(s, "id");
    auto pid = get_int(s, "pid");
    parts.push_back(pid > 0 ? id + " (pid " + std::to_string(pid) + ")" : id);
  }
  if (parts.empty()) return "";
  auto name = starts_with(signal, "SIG") ? signal : "SIG" + signal;
  return "sent " + name + " to " + join(parts, ", ") + "\n";
}

std::string render_apply(const json& result, bool color) {
  const bool dry = result.value("dry_run", false);
  const json none = json::object();
  const json& changes = result.contains("changes") ? result["changes"] : none;
  const json& scale = result.contains("scale") ? result["scale"] : none;
  std::string out;
  for (const auto& a : get_strings(result, "added"))
    out += paint("+ " + a, ansi::green, color) + (dry ? " (would start)\n" : "\n");
  for (const auto& r : get_strings(result, "removed"))
    out += paint("- " + r, ansi::red, color) + (dry ? " (would stop)\n" : "\n");
  // A dry run's "reloaded": the apps a rolling reload takes where they run.
  auto reloaded = get_strings(result, "reloaded");
  for (const auto& c : get_strings(result, "changed")) {
    auto keys = get_strings(changes, c.c_str());
    bool reload = std::find(reloaded.begin(), reloaded.end(), c) != reloaded.end();
    auto how = reload ? (dry ? " (would reload, rolling, where it runs" : " (reloaded, rolling")
                      : (dry ? " (would restart" : " (restarted");
    out += paint("~ " + c, ansi::yellow, color) + how
           + (keys.empty() ? "" : ": " + join(keys, ", ") + " changed") + ")\n";
  }
  for (const auto& c : get_strings(result, "scaled")) {
    auto to = scale.contains(c) ? " " + std::to_string(get_int(scale[c], "from")) + " → "
                                    + std::to_string(get_int(scale[c], "to"))
                                : std::string{};
    out += paint("~ " + c, ansi::yellow, color) + (dry ? " (would scale" : " (scaled") + to + ")\n";
  }
  auto unchanged = std::to_string(get_strings(result, "unchanged").size()) + " unchanged";
  if (out.empty()) out = "no changes (" + unchanged + ")\n";
  else out += paint(unchanged, ansi::dim, color) + "\n";
  if (dry) out += "dry run: nothing was changed\n";
  return out;
}

std::string render_event(const json& ev, bool color, event_columns& cols) {
  auto at = get_str(ev, "at");
  if (at.empty()) at = iso_time(get_int(ev, "at_ns"));
  auto who = event_who(ev);
  auto kind = get_str(ev, "event");
  auto reason = get_str(ev, "reason");
  auto pid = get_int(ev, "pid");
  cols.offender = std::max(cols.offender, display_width(who));
  cols.kind = std::max(cols.kind, display_width(kind));
  std::string out = paint(at, ansi::dim, color) + "  "
                    + pad_right(paint(who, ansi::bold, color), cols.offender) + "  "
                    + pad_right(paint(kind, event_style(kind, reason), color), cols.kind);
  if (!reason.empty()) out += "  " + reason;
  if (pid > 0) out += "  " + paint("pid ", ansi::dim, color) + std::to_string(pid);
  return rtrim(out);
}

std::string render_event(const json& ev, bool color) {
  event_columns cols;
  return render_event(ev, color, cols);
}

std::string render_events(const json& result, bool color) {
  const json& list = result.is_array() ? result : get_array(result, "events");
  event_columns cols;
  for (const auto& ev : list) {
    cols.offender = std::max(cols.offender, display_width(event_who(ev)));
    cols.kind = std::max(cols.kind, display_width(get_str(ev, "event")));
  }
  std::string out;
  for (const auto& ev : list) out += render_event(ev, color, cols) + "\n";
  return out;
}

std::string render_error(const json& error) {
  auto message = get_str(error, "message");
  if (message.empty()) message = get_str(error, "code");
  if (message.empty()) message = "the daemon answered with an error";
  std::string out = "arbor: " + message + "\n";
  for (const auto& d : get_strings(error, "diagnostics")) out += d + "\n";
  return out;
}

} // namespace arbor::cli
