#pragma once

// What `/metrics` shows, as pure code (no CAF, no I/O): the Prometheus text
// format 0.0.4, the families arbor exports built from plain snapshots, the
// restart counting that feeds `arbor_instance_restarts_total`, and the
// `[metrics] listen` address. src/daemon/metrics_server.cpp does the wiring.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbor/event_kind.hpp"
#include "arbor/state.hpp"

namespace arbor::metrics {

// --- the text format ----------------------------------------------------------

enum class metric_type : uint8_t { gauge, counter };

/// Label name → value, in the order written.
using label_set = std::vector<std::pair<std::string, std::string>>;

struct sample {
  label_set labels;
  double value = 0;
};

/// One metric family: `# HELP` and `# TYPE` once, then its samples.
struct family {
  std::string name;            ///< "arbor_instance_up"; a counter's ends in "_total"
  std::string help;
  metric_type type = metric_type::gauge;
  std::vector<sample> samples; ///< may be empty: HELP/TYPE are still written
};

/// Renders families in the text format 0.0.4, deterministically: families
/// sorted by name (two with one name are merged, the first one's HELP/TYPE
/// win), samples sorted by their labels (values compared naturally, so
/// index "2" comes before "10"). No timestamps. Ends with a newline.
std::string render(std::vector<family> families);

/// A label value as written between quotes: `\` → `\\`, `"` → `\"`, newline → `\n`.
std::string escape_label_value(std::string_view v);
/// HELP text: `\` → `\\`, newline → `\n`.
std::string escape_help(std::string_view v);
/// A sample value: integers without a fraction ("42"), else the shortest
/// round-trip form ("0.25", "1.5e-07"); "NaN", "+Inf", "-Inf".
std::string format_value(double v);

/// "a" < "b", and digit runs compare as numbers ("web#2" < "web#10").
bool natural_less(std::string_view a, std::string_view b);

// --- restarts by cause --------------------------------------------------------

/// The causes arbor_instance_restarts_total counts, as its `reason` label
/// says them (to_string), in this order. Not counted: `none` and `scaled`
/// (a new instance's first start).
inline constexpr restart_cause counted_causes[] = {
  restart_cause::crash,      restart_cause::memory_limit, restart_cause::cron,
  restart_cause::sibling,    restart_cause::escalation,   restart_cause::health,
  restart_cause::manual,     restart_cause::other};

/// Counts restarts per instance and cause from the tree's events, fed in
/// the order of one instance's events (the bus keeps it):
///   - `restarting` about an instance ("web.api#0") is one restart of its
///     event's cause. A group's own `restarting` (offender without '#') is
///     not: the instances it restarts each report theirs;
///   - `backoff` remembers its cause; the next `child_started` of that
///     instance (the delayed restart, which has no `restarting`) counts it;
///     `restarting`, `stopped`, `gave_up`, `spawn_failed` forget it.
class restart_counter {
public:
  using counts = std::array<uint64_t, restart_cause_count>; ///< index = the restart_cause

  void on_event(event_kind what, std::string_view offender, restart_cause cause);
  /// Instance id → restarts by cause (only counted_causes are ever non-zero).
  const std::map<std::string, counts>& all() const { return counts_; }

private:
  void count(std::string_view offender, restart_cause cause);
  std::map<std::string, counts> counts_;
  std::map<std::string, restart_cause> pending_; ///< instance → cause of its backoff
};

// --- the families -------------------------------------------------------------

/// The daemon itself; negative = unknown (the sample is left out).
struct daemon_stats {
  double uptime_seconds = -1;
  int64_t resident_memory_bytes = -1;
  int64_t open_fds = -1;
  std::string version;
};

/// Everything one scrape shows.
struct scrape_input {
  /// The tree's status; empty when it did not answer in time (then the
  /// per-instance gauges are left out and arbor_tree_status_success is 0).
  std::optional<node_status> tree;
  /// Restart counts by instance id; empty when the counter did not answer
  /// (then arbor_instance_restarts_total has no samples: never a fake reset).
  std::optional<std::map<std::string, restart_counter::counts>> restarts;
  daemon_stats daemon;
  double scrape_duration_seconds = -1; ///< time spent gathering; < 0 = left out
};

/// The families arbor exports (see the README's Metrics section). Labels:
/// `app` (dotted path), `index` (instance number: not `instance`, which
/// Prometheus sets on every scraped series itself), `reason` (the restart
/// cause), `state`, `group`.
std::vector<family> build_families(const scrape_input& in);

// --- where it is served -------------------------------------------------------

struct listen_address {
  std::string host; ///< for bind: "127.0.0.1", "0.0.0.0", "::1", "localhost"
  uint16_t port = 0;
};

/// Parses `[metrics] listen`: "host:port", "[v6]:port", or ":port" / "port"
/// alone, which bind the loopback (127.0.0.1): arbor never picks a
/// non-loopback address by itself; one written explicitly (e.g. "0.0.0.0") is
/// used as is. Port 0 is accepted (the kernel picks one). nullopt and `error`
/// set on a malformed value.
std::optional<listen_address> parse_listen(std::string_view text, std::string& error);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(std::string_view host);

} // namespace arbor::metrics
