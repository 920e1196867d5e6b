#pragma once

// Specs: what the user asked for, as plain data with defaults. No toml++, no
// CAF. The config loader fills these from a file; an embedder may build them
// in code. Validation is separate: supervision_tree's constructor and the
// config loader run the same rules (src/config/validate.hpp).

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace arbor {

using millis = std::chrono::milliseconds;

/// When a process that ended is started again.
enum class restart_policy : uint8_t {
  on_failure, ///< restart after a non-zero exit or a signal (OTP `transient`)
  always,     ///< restart after any exit (OTP `permanent`)
  never,      ///< never restart (OTP `temporary`)
};

/// What a group does with its other children when one of them fails.
enum class strategy_kind : uint8_t { one_for_one, one_for_all, rest_for_one };

/// Where a spec came from, for error messages (`file:line:col`).
struct source_pos {
  std::string file;
  uint32_t line = 0;
  uint32_t col = 0;
  bool operator==(const source_pos& o) const {
    return file == o.file && line == o.line && col == o.col;
  }
};

/// Where keys' values were written ("depends_on[1]" for one name, "name"
/// for the table's key), for error messages; empty in a spec built in code.
using key_positions = std::vector<std::pair<std::string, source_pos>>;

/// Liveness/readiness check of an app (implemented by the health issue).
struct health_check_spec {
  enum class kind : uint8_t { none, http, tcp, exec };
  kind type = kind::none;
  std::string target;       ///< URL, "host:port" or a command; may hold {port}, {instance}
  millis interval{10000};   ///< `interval_secs`, default 10 s
  millis timeout{3000};     ///< `timeout_secs`, default 3 s
  uint32_t failures = 3;    ///< consecutive failures before a restart
  millis start_period{0};   ///< grace after start
  bool operator==(const health_check_spec& o) const {
    return type == o.type && target == o.target && interval == o.interval
           && timeout == o.timeout && failures == o.failures
           && start_period == o.start_period;
  }
};

/// Per-app log settings (implemented by the control-plane issue).
struct log_spec {
  uint64_t max_size = 10ull * 1024 * 1024; ///< `log_max_size`, bytes
  uint32_t max_files = 5;                  ///< `log_max_files`
  std::string date_format;                 ///< `log_date_format`, strftime; empty = none
  bool operator==(const log_spec& o) const {
    return max_size == o.max_size && max_files == o.max_files
           && date_format == o.date_format;
  }
};

/// One listening socket arbor binds for an app and hands to each of its
/// runs by systemd's socket-activation protocol (fds from 3, LISTEN_FDS,
/// LISTEN_PID, LISTEN_FDNAMES).
struct listen_spec {
  /// "127.0.0.1:3000", "[::1]:3000", ":3000" (every address), or
  /// "unix:/run/app.sock". Hosts are numeric (no name lookup).
  std::string address;
  std::string name;   ///< its LISTEN_FDNAMES entry; "" = the app's last name segment
  std::string mode;   ///< unix sockets: octal permissions ("0660"); "" = as bound (umask)
  std::string owner;  ///< unix sockets: "user[:group]"; "" = arbor's
  bool operator==(const listen_spec& o) const {
    return address == o.address && name == o.name && mode == o.mode && owner == o.owner;
  }
};

/// One resource limit of an app's processes (setrlimit): `rlimits.nofile`.
struct rlimit_spec {
  static constexpr uint64_t unlimited = UINT64_MAX; ///< RLIM_INFINITY
  std::string name;   ///< "nofile", "core", ... (os/credentials.hpp lists them)
  uint64_t soft = 0;  ///< a size limit in bytes; `unlimited` for none
  uint64_t hard = 0;  ///< equal to soft unless the config gave {soft, hard}
  bool operator==(const rlimit_spec& o) const {
    return name == o.name && soft == o.soft && hard == o.hard;
  }
};

/// One app: a command run as `instances` OS processes.
struct app_spec {
  std::string name;                  ///< dotted path as nested in the config, e.g. "web.api"
  std::string command;               ///< the command as written (for display)
  std::vector<std::string> argv;     ///< what is exec'd (split command, `args`, or sh -c)
  bool shell = false;                ///< argv is {"/bin/sh", "-c", command}
  std::string cwd;                   ///< absolute; default: the config file's directory
  /// Extra environment, in order of application (env_file first, then `env`);
  /// on top of arbor's own environment, then ARBOR_APP / ARBOR_INSTANCE (/ PORT).
  std::vector<std::pair<std::string, std::string>> env;
  std::string env_file;              ///< as written (already read into `env`)
  uint32_t instances = 1;
  restart_policy restart = restart_policy::on_failure;
  std::vector<int> stop_exit_codes;  ///< exit codes that never trigger a restart
  uint32_t max_restarts = 15;        ///< consecutive short runs tolerated before `failed`
  millis min_uptime{1000};           ///< a run this long is stable: counters reset
  millis restart_delay{0};           ///< `restart_delay_ms`: delay before any restart
  millis backoff_base{100};          ///< crash loop delay = min(base * 2^n, max)
  millis backoff_max{30000};
  int kill_signal = SIGTERM;
  millis kill_timeout{5000};         ///< then SIGKILL of the process group

  // Parsed and validated now, implemented by later issues.
  uint64_t max_memory = 0;           ///< bytes of RSS over the process tree; 0 = no limit
  std::string cron_restart;          ///< 5 or 6 field cron expression; empty = none
  std::string cron_tz;               ///< zoneinfo name; empty = UTC
  /// Watch mode: a change under these absolute paths (directories, watched
  /// recursively, or files) restarts the app; `watch = true` is its cwd.
  /// Empty = off.
  std::vector<std::string> watch;
  /// Globs left out, on top of config::default_watch_ignore.
  std::vector<std::string> watch_ignore;
  millis watch_debounce{300};        ///< quiet time after a change before the restart
  health_check_spec health;
  std::string ready;                 ///< "" (check, else min_uptime) or "notify"
  uint16_t port = 0;                 ///< instance i gets PORT=port+i; 0 = none
  /// Apps or groups to start after: full dotted paths, or an app's last
  /// segment when that is unique; validation resolves them to full paths.
  std::vector<std::string> depends_on;
  log_spec log;
  /// Sockets bound once for the app and handed to every run, in order
  /// (fd 3 is the first). Empty: none.
  std::vector<listen_spec> listen;
  /// Hard limits of each run's cgroup (os/cgroup_limits.hpp); 0 = none.
  uint64_t memory_max = 0;           ///< bytes (memory.max; an OOM kill restarts with cause oom)
  uint64_t cpu_quota_us = 0;         ///< cpu_max per 100 ms: "50%" = 50000, "1.5" = 150000
  uint32_t cpu_weight = 0;           ///< 1..10000 (cpu.weight; 100 is everyone's default)
  uint64_t pids_max = 0;             ///< processes and threads (pids.max)

  // Who the processes run as and their limits, set in the child before exec
  // (os/credentials.hpp). Another user or group needs arbor to run as root.
  std::string user;                  ///< name or uid; "" = arbor's own
  std::string group;                 ///< name or gid; "" = the user's primary group
  int umask = -1;                    ///< 0..0777; -1 = arbor's
  std::vector<rlimit_spec> rlimits;  ///< in config order; none = arbor's own
  std::optional<int> nice;           ///< -20..19; none = arbor's
  std::optional<int> oom_score_adj;  ///< -1000..1000; none = arbor's

  source_pos where;                  ///< the app's table in the config
  key_positions key_where;
  /// The position of `key`'s value if known, else the app's.
  source_pos where_of(const std::string& key) const;

  /// Same spec apart from where it was written (`where`, `key_where`); decides
  /// restarts on apply.
  bool same_run_spec(const app_spec& o) const;
};

struct node_spec;

/// A group of apps and groups: a supervisor. The root is a group named "".
struct group_spec {
  std::string name;                  ///< dotted path; "" for the root
  strategy_kind strategy = strategy_kind::one_for_one;
  std::optional<uint32_t> intensity; ///< max restart events per `period`; none = no limit
  std::chrono::seconds period{5};
  std::vector<node_spec> children;   ///< start order = file order
  source_pos where;
  key_positions key_where;
  /// The position of `key`'s value if known, else the group's.
  source_pos where_of(const std::string& key) const;
};

/// A child of a group: exactly one of an app or a group.
struct node_spec {
  enum class kind : uint8_t { app, group };
  kind type = kind::app;
  app_spec app;                      ///< valid when type == app
  group_spec group;                  ///< valid when type == group
  const std::string& name() const { return type == kind::app ? app.name : group.name; }
};

/// `[metrics]` (implemented by the ecosystem issue). Off unless present.
struct metrics_spec {
  bool enabled = false;
  std::string listen = "127.0.0.1:9100";
  source_pos where;                  ///< the `listen` value in the config
};

/// `[web]`: the dashboard and the control protocol over HTTP
/// (src/daemon/web_*). Off unless present.
struct web_spec {
  bool enabled = false;
  std::string listen = "127.0.0.1:9200";
  /// The token actions must carry; "" = <home>/web.token, generated. Required
  /// for a listen address that is not the loopback.
  std::string token_file;
  bool read_only = false;            ///< refuse every action (start, stop, ...)
  source_pos where;                  ///< the `listen` value (or the table) in the config
};

/// A whole config file.
struct tree_spec {
  std::string file;                  ///< absolute path of the config ("" if built in code)
  group_spec root;
  metrics_spec metrics;
  web_spec web;
};

const char* to_string(restart_policy p);
const char* to_string(strategy_kind s);

} // namespace arbor
