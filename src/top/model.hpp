#pragma once

// What `arbor top` shows, as pure data: the rows of the tree built from the
// daemon's `tree` result (src/proto/PROTOCOL.md), which groups and apps are
// collapsed, the filter, the selection, and the text of each row. No
// terminal and no daemon here: tests/top/ drives it with JSON.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arbor::top {

using nlohmann::json;

/// A group's restart limit from its spec (`show`): at most `intensity`
/// restarts within `period_s` seconds; no intensity = no limit.
struct group_limits {
  std::optional<int64_t> intensity;
  int64_t period_s = 0;
};

enum class row_kind { group, app, instance };

/// One line of the tree pane.
struct row {
  row_kind kind = row_kind::group;
  std::string key;          ///< group/app path ("" = the root group) or instance id
  std::string app;          ///< apps and instances: the app's path
  int depth = 0;
  bool collapsed = false;   ///< groups and apps
  std::string state;
  std::string kind_detail;  ///< group: strategy; app: restart policy
  std::string reason;       ///< why the state is what it is
  size_t up = 0, total = 0; ///< apps: instances up (running/ready) of all
  // instances only
  int64_t pid = 0, uptime_ms = 0, restarts = 0;
  std::optional<int64_t> intensity_used; ///< groups: restart events in the window now (`tree`)
  std::optional<double> memory, cpu;
  std::string last_exit, health;
};

/// `s` cut to `width` columns at a code point (no "…": the terminal's locale
/// may not be UTF-8).
std::string cut(std::string s, size_t width);
/// `s` in exactly `width` columns: cut, or padded with spaces.
std::string fit(std::string s, size_t width);

/// The delay in a backoff reason ("exit(1), restart in 400ms" → 400).
std::optional<int64_t> restart_delay_ms(const std::string& reason);

/// The pane's text for a backoff instance: "next restart in 3s" counted down
/// from when the backoff began (`since_ns`, wall clock; 0 = unknown, then
/// the whole delay is shown), "" if the reason carries no delay.
std::string next_restart_text(const std::string& reason, int64_t since_ns, int64_t now_ns);

/// "max 5 restarts in 60s" or "no restart limit".
/// "max 5 restarts in 1m00s", or with `used` known "2 of 5 restarts in 1m00s".
std::string limits_text(const group_limits& l, std::optional<int64_t> used = std::nullopt);

class model {
public:
  /// The `tree` result's root node; the selection stays on the same key
  /// (or the same place when that key went away).
  void set_tree(const json& root);
  void set_limits(const std::string& group, group_limits l);
  /// Groups of the tree whose limits are not known yet.
  std::vector<std::string> groups_without_limits() const;
  /// Follows the event stream: remembers when each instance entered backoff.
  void note_event(const json& event);

  const std::vector<row>& rows() const { return rows_; }
  size_t selected_index() const { return selected_; }
  const row* selected() const;

  void move(int delta);     ///< clamped to the rows
  void select_first();
  void select_last();
  /// Collapses (false) or expands (true) the selected group or app; on an
  /// instance, `expand == false` selects its app instead.
  void set_expanded(bool expand);
  void toggle_selected();
  bool is_collapsed(const std::string& key) const { return collapsed_.count(key) > 0; }

  /// Case-insensitive substring of a path or instance id; "" shows all. A
  /// matching node shows its ancestors and everything under it.
  void set_filter(const std::string& filter);
  const std::string& filter() const { return filter_; }

  /// One row as text, `width` columns at most (groups: strategy and limits;
  /// apps: policy and instances up; instances: state, pid, uptime, restarts,
  /// memory, CPU, then readiness, next restart, reason or last exit).
  std::string row_text(const row& r, int64_t now_ns, size_t width) const;
  /// The header's summary: "3 apps, 4 instances: 3 up, 1 backoff".
  std::string summary() const;
  /// The column heading above instance rows, aligned with row_text.
  static std::string column_heading(size_t width);
  /// Where an instance row's state is (the view colours it).
  static constexpr size_t state_column = 17, state_width = 8;

private:
  void rebuild();
  void walk(const json& node, int depth, bool shown_by_ancestor);
  bool matches(const json& node) const;

  json root_ = json::object();
  std::vector<row> rows_;
  size_t selected_ = 0;
  std::string selected_key_;
  std::set<std::string> collapsed_;
  std::string filter_;
  std::map<std::string, group_limits> limits_;
  std::map<std::string, int64_t> backoff_since_ns_;
};

} // namespace arbor::top
