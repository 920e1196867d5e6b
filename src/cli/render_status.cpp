// `status`: the instance table (shared with `show`) and what it reads.

#include <algorithm>
#include <cstdio>

#include "cli/render_detail.hpp"
#include "os/proc_stats.hpp"

namespace arbor::cli {

namespace detail {

// --- instances ---------------------------------------------------------------

instance_view read_instance(const json& j) {
  instance_view v;
  v.id = get_str(j, "id");
  v.app = get_str(j, "app");
  v.state = get_str(j, "state");
  v.last_exit = get_str(j, "last_exit");
  v.reason = get_str(j, "reason");
  v.started = get_str(j, "from") == "arbor start";
  auto hash = v.id.rfind('#');
  if (v.app.empty()) v.app = v.id.substr(0, hash);
  int64_t from_id = 0;
  if (hash != std::string::npos) {
    try {
      from_id = std::stoll(v.id.substr(hash + 1));
    } catch (...) {
    }
  }
  v.index = get_int(j, "index", from_id);
  v.pid = get_int(j, "pid");
  v.uptime_ms = get_int(j, "uptime_ms");
  v.restarts = get_int(j, "restarts");
  v.short_runs = get_int(j, "short_runs");
  v.next_try_ms = get_int(j, "next_try_ms");
  v.memory = get_num(j, "memory_bytes");
  v.cpu = get_num(j, "cpu_percent");
  return v;
}

std::string instance_reason(const instance_view& i) {
  if (i.state == "backoff") {
    auto r = i.reason;
    if (i.next_try_ms > 0) {
      char in[32];
      std::snprintf(in, sizeof in, "%.1f s", static_cast<double>(i.next_try_ms) / 1000.0);
      r += std::string{r.empty() ? "" : "; "} + "next try in " + in;
    }
    // A crash loop's reason counts them already.
    if (i.short_runs > 0 && r.find("consecutive runs") == std::string::npos)
      r += "; " + std::to_string(i.short_runs) + " short run" + (i.short_runs == 1 ? "" : "s")
           + " in a row";
    return r;
  }
  if (i.state == "failed") return i.reason;
  if (i.state == "stopped" && i.reason != "stopped") return i.reason;
  if (i.reason.rfind(os::stopped_by_signal_reason, 0) == 0) return i.reason;
  return "";
}

std::string memory_text(const instance_view& i) {
  return i.memory && *i.memory >= 0 ? human_bytes(static_cast<uint64_t>(*i.memory)) : "-";
}

std::string cpu_text(const instance_view& i) { return i.cpu ? human_cpu(*i.cpu) : "-"; }

} // namespace detail

using namespace detail;

namespace {

// --- tables ------------------------------------------------------------------

struct column {
  std::string header;
  bool right = false;
};

struct cell {
  std::string text;
  const char* style = ansi::none;
};

/// Columns two spaces apart, each as wide as its widest cell.
std::string render_table(const std::vector<column>& cols,
                         const std::vector<std::vector<cell>>& rows, bool color) {
  std::vector<size_t> width(cols.size());
  for (size_t c = 0; c < cols.size(); ++c) width[c] = display_width(cols[c].header);
  for (const auto& row : rows)
    for (size_t c = 0; c < cols.size() && c < row.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c].text));
  auto line = [&](const std::vector<cell>& row) {
    std::string out;
    for (size_t c = 0; c < cols.size(); ++c) {
      const cell& x = c < row.size() ? row[c] : cell{};
      auto gap = width[c] - std::min(width[c], display_width(x.text));
      if (c) out += "  ";
      if (cols[c].right) out.append(gap, ' ');
      out += paint(x.text, x.style, color);
      if (!cols[c].right) out.append(gap, ' ');
    }
    return rtrim(out) + "\n";
  };
  std::vector<cell> header;
  for (const auto& c : cols) header.push_back({c.header, ansi::bold});
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

} // namespace

std::string detail::render_instances(const std::vector<instance_view>& list, bool color) {
  if (list.empty()) return "no instances\n";
  std::vector<column> cols = {{"APP"},          {"INST"},         {"STATE"},
                              {"PID", true},    {"UPTIME", true}, {"RESTARTS", true},
                              {"MEMORY", true}, {"CPU", true}};
  bool notes = std::any_of(list.begin(), list.end(),
                           [](const instance_view& i) { return !instance_reason(i).empty(); });
  if (notes) cols.push_back({"NOTE"});
  std::vector<std::vector<cell>> rows;
  for (const auto& i : list) {
    bool live = i.pid != 0;
    std::vector<cell> row = {
      {i.started ? i.app + "*" : i.app},
      {"#" + std::to_string(i.index)},
      {i.state, state_style(i.state)},
      {live ? std::to_string(i.pid) : "-"},
      {live ? human_duration(i.uptime_ms) : "-"},
      {std::to_string(i.restarts), i.restarts > 0 ? ansi::yellow : ansi::none},
      {memory_text(i)},
      {cpu_text(i)},
    };
    if (notes) row.push_back({instance_reason(i), reason_style(i.state)});
    rows.push_back(std::move(row));
  }
  return render_table(cols, rows, color);
}

std::string render_status(const json& result, bool color) {
  const json& list = result.is_array() ? result : get_array(result, "instances");
  std::vector<instance_view> views;
  for (const auto& i : list)
    if (i.is_object()) views.push_back(read_instance(i));
  auto out = render_instances(views, color);
  if (std::any_of(views.begin(), views.end(), [](const instance_view& v) { return v.started; }))
    out += paint("* added by `arbor start -- CMD`, not from the config file (arbor delete APP "
                 "removes it)", ansi::dim, color) + "\n";
  return out;
}

} // namespace arbor::cli
