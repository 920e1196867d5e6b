#include "metrics/exposition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

namespace arbor::metrics {

// --- the text format ----------------------------------------------------------

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool labels_less(const label_set& a, const label_set& b) {
  auto n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i].first != b[i].first) return a[i].first < b[i].first;
    if (a[i].second != b[i].second) return natural_less(a[i].second, b[i].second);
  }
  return a.size() < b.size();
}

const char* type_name(metric_type t) {
  return t == metric_type::counter ? "counter" : "gauge";
}

} // namespace

bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      auto i2 = i, j2 = j;
      while (i2 < a.size() && is_digit(a[i2])) ++i2;
      while (j2 < b.size() && is_digit(b[j2])) ++j2;
      auto x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
      while (!x.empty() && x.front() == '0') x.remove_prefix(1);
      while (!y.empty() && y.front() == '0') y.remove_prefix(1);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j])
        return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  if (i < a.size() || j < b.size()) return i == a.size(); // a prefix sorts first
  return a < b; // equal as numbers ("02" vs "2"): any fixed order
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r;
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
  else
    r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string render(std::vector<family> families) {
  std::stable_sort(families.begin(), families.end(),
                   [](const family& a, const family& b) { return a.name < b.name; });
  // Merge families of one name into the first.
  std::vector<family> merged;
  for (auto& f : families) {
    if (!merged.empty() && merged.back().name == f.name) {
      auto& into = merged.back().samples;
      into.insert(into.end(), std::make_move_iterator(f.samples.begin()),
                  std::make_move_iterator(f.samples.end()));
    } else {
      merged.push_back(std::move(f));
    }
  }
  std::string out;
  for (auto& f : merged) {
    std::stable_sort(f.samples.begin(), f.samples.end(),
                     [](const sample& a, const sample& b) { return labels_less(a.labels, b.labels); });
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + type_name(f.type) + "\n";
    for (auto& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        bool first = true;
        for (auto& [k, v] : s.labels) {
          if (!first) out += ',';
          first = false;
          out += k + "=\"" + escape_label_value(v) + "\"";
        }
        out += '}';
      }
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
  return out;
}

// --- restarts by cause --------------------------------------------------------

void restart_counter::count(std::string_view offender, restart_cause cause) {
  if (cause == restart_cause::none || cause == restart_cause::scaled) return;
  auto it = counts_.find(std::string{offender});
  if (it == counts_.end()) it = counts_.emplace(std::string{offender}, counts{}).first;
  ++it->second[static_cast<size_t>(cause)];
}

void restart_counter::on_event(event_kind what, std::string_view offender, restart_cause cause) {
  if (offender.find('#') == std::string_view::npos) return; // a group's or an app's own
  auto key = std::string{offender};
  switch (what) {
    case event_kind::restarting:
      pending_.erase(key);
      count(offender, cause);
      break;
    case event_kind::backoff: pending_[key] = cause; break;
    case event_kind::child_started:
      if (auto it = pending_.find(key); it != pending_.end()) {
        count(offender, it->second);
        pending_.erase(it);
      }
      break;
    case event_kind::stopped:
    case event_kind::gave_up:
    case event_kind::spawn_failed: pending_.erase(key); break;
    default: break;
  }
}

// --- the families -------------------------------------------------------------


namespace {

constexpr proc_state all_states[] = {proc_state::stopped,  proc_state::starting,
                                     proc_state::running,  proc_state::ready,
                                     proc_state::stopping, proc_state::backoff,
                                     proc_state::failed};

void walk(const node_status& n, const std::function<void(const node_status&)>& on_group,
          const std::function<void(const node_status&)>& on_app) {
  if (n.is_group) {
    on_group(n);
    for (auto& c : n.children) walk(c, on_group, on_app);
  } else {
    on_app(n);
  }
}

family gauge(std::string name, std::string help) {
  return family{std::move(name), std::move(help), metric_type::gauge, {}};
}

void add_restarts(family& f, const std::string& app, const std::string& index,
                  const restart_counter::counts& c) {
  for (auto cause : counted_causes)
    f.samples.push_back({{{"app", app}, {"index", index}, {"reason", to_string(cause)}},
                         static_cast<double>(c[static_cast<size_t>(cause)])});
}

} // namespace

std::vector<family> build_families(const scrape_input& in) {
  auto up = gauge("arbor_instance_up",
                  "1 when the instance's process runs (state running or ready), else 0.");
  auto ready = gauge("arbor_instance_ready",
                     "1 when the instance passed its readiness check (state ready), else 0.");
  auto state = gauge("arbor_instance_state",
                     "The instance's state, one-hot: 1 for the current state, 0 for the others.");
  auto memory = gauge("arbor_instance_memory_bytes",
                      "Resident memory (RSS) of the instance's whole process tree, in bytes; "
                      "absent until sampled.");
  auto cpu = gauge("arbor_instance_cpu_ratio",
                   "CPU used by the instance's process tree over the last sampling interval, "
                   "in cores (1 = one core fully busy); absent until known.");
  auto uptime = gauge("arbor_instance_uptime_seconds",
                      "Seconds since the instance's current process started; absent when no "
                      "process runs.");
  auto group_failed = gauge("arbor_group_failed",
                            "1 when the group gave up or one of its children is failed, else 0; "
                            "group=\"\" is the root of the tree.");
  family restarts{"arbor_instance_restarts_total",
                  "Restarts of the instance since the daemon started, by reason: crash, "
                  "memory_limit, cron, sibling, escalation, health, manual, other.",
                  metric_type::counter,
                  {}};

  if (in.tree) {
    walk(
      *in.tree,
      [&](const node_status& g) {
        group_failed.samples.push_back({{{"group", g.name}}, g.state == "failed" ? 1.0 : 0.0});
      },
      [&](const node_status& app) {
        for (auto& i : app.instances) {
          auto index = std::to_string(i.index);
          label_set ls{{"app", app.name}, {"index", index}};
          bool running = i.state == proc_state::running || i.state == proc_state::ready;
          up.samples.push_back({ls, running ? 1.0 : 0.0});
          ready.samples.push_back({ls, i.state == proc_state::ready ? 1.0 : 0.0});
          for (auto s : all_states) {
            auto with_state = ls;
            with_state.emplace_back("state", to_string(s));
            state.samples.push_back({std::move(with_state), i.state == s ? 1.0 : 0.0});
          }
          if (i.memory_bytes >= 0)
            memory.samples.push_back({ls, static_cast<double>(i.memory_bytes)});
          if (i.cpu_percent >= 0) cpu.samples.push_back({ls, i.cpu_percent / 100.0});
          if (i.pid != 0) uptime.samples.push_back({ls, static_cast<double>(i.uptime_ms) / 1000.0});
          if (in.restarts) {
            auto it = in.restarts->find(i.id);
            add_restarts(restarts, app.name, index,
                         it != in.restarts->end() ? it->second : restart_counter::counts{});
          }
        }
      });
  } else if (in.restarts) {
    // No status: the instances the counter knows, named by their ids.
    for (auto& [id, c] : *in.restarts) {
      auto hash = id.rfind('#');
      add_restarts(restarts, id.substr(0, hash), hash == std::string::npos ? "" : id.substr(hash + 1),
                   c);
    }
  }

  std::vector<family> out;
  out.push_back(std::move(up));
  out.push_back(std::move(ready));
  out.push_back(std::move(state));
  out.push_back(std::move(memory));
  out.push_back(std::move(cpu));
  out.push_back(std::move(uptime));
  out.push_back(std::move(group_failed));
  out.push_back(std::move(restarts));

  auto success = gauge("arbor_tree_status_success",
                       "1 when the supervision tree answered this scrape's status request in "
                       "time, else 0 (the per-instance gauges are absent then).");
  success.samples.push_back({{}, in.tree ? 1.0 : 0.0});
  out.push_back(std::move(success));

  const auto& d = in.daemon;
  if (d.uptime_seconds >= 0) {
    auto f = gauge("arbor_daemon_uptime_seconds", "Seconds since the arbor daemon started.");
    f.samples.push_back({{}, d.uptime_seconds});
    out.push_back(std::move(f));
  }
  if (d.resident_memory_bytes >= 0) {
    auto f = gauge("arbor_daemon_resident_memory_bytes",
                   "Resident memory (RSS) of the arbor daemon itself, in bytes.");
    f.samples.push_back({{}, static_cast<double>(d.resident_memory_bytes)});
    out.push_back(std::move(f));
  }
  if (d.open_fds >= 0) {
    auto f = gauge("arbor_daemon_open_fds", "Open file descriptors of the arbor daemon.");
    f.samples.push_back({{}, static_cast<double>(d.open_fds)});
    out.push_back(std::move(f));
  }
  auto info = gauge("arbor_build_info", "Always 1; the version of arbor as a label.");
  info.samples.push_back({{{"version", d.version.empty() ? "unknown" : d.version}}, 1.0});
  out.push_back(std::move(info));
  if (in.scrape_duration_seconds >= 0) {
    auto f = gauge("arbor_scrape_duration_seconds",
                   "Seconds this scrape took to gather the tree's status and counters.");
    f.samples.push_back({{}, in.scrape_duration_seconds});
    out.push_back(std::move(f));
  }
  return out;
}

// --- where it is served -------------------------------------------------------

bool is_loopback(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  return host.substr(0, 4) == "127.";
}

std::optional<listen_address> parse_listen(std::string_view text, std::string& error) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "'" + std::string{text} + "' is not \"[address]:port\"";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = "'" + std::string{text} + "': write an IPv6 address in brackets, \"[::1]:9100\"";
      return std::nullopt;
    }
  } else {
    port = text; // a port alone
  }
  if (port.empty() || port.size() > 5
      || !std::all_of(port.begin(), port.end(), [](char c) { return is_digit(c); })) {
    error = "'" + std::string{text} + "' is not \"host:port\"";
    return std::nullopt;
  }
  unsigned n = 0;
  std::from_chars(port.data(), port.data() + port.size(), n);
  if (n > 65535) {
    error = "port " + std::string{port} + " is out of range 0-65535";
    return std::nullopt;
  }
  listen_address a;
  a.host = host.empty() ? "127.0.0.1" : std::string{host};
  a.port = static_cast<uint16_t>(n);
  return a;
}

} // namespace arbor::metrics
