#pragma once

// What the client verbs print: pure functions from the daemon's JSON results
// (src/proto/PROTOCOL.md) to text. No I/O, no daemon; `color` adds ANSI
// escapes and never changes the visible text or its alignment.
//
// Every function tolerates missing or mistyped fields (a newer or older
// daemon): a missing string prints as empty, a missing number as "-".

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace arbor::cli {

/// 45s, 3m12s, 2h05m, 3d04h (two units at most; seconds below a minute).
/// Negative values print as "0s".
std::string human_duration(int64_t ms);

/// 512B, 14.8K, 14.8M, 1.2G, 3.0T (1024-based, one decimal from K up).
std::string human_bytes(uint64_t bytes);

/// 0.4%, 12.0%, 150.3% (one core = 100%).
std::string human_cpu(double percent);

/// `status`: one row per instance (result: {"instances":[...]}): APP, INST,
/// STATE, PID, UPTIME, RESTARTS, MEMORY, CPU, and a NOTE column (why an
/// instance is failed/backoff/down) when any row has one.
std::string render_status(const nlohmann::json& result, bool color);

/// `tree`: the supervision tree (result: {"root": node}) under a header line
/// built from `ping` ({"config": ...}; may be null). Instance rows share
/// aligned columns. With `width` (a terminal's columns; 0: no limit) rows
/// that would not fit get narrower gaps, then are cut with "…".
std::string render_tree(const nlohmann::json& tree, const nlohmann::json& ping, bool color,
                        size_t width = 0);

/// `show`: the node's heading, its instances (as in status), an app's log
/// files, and its spec as a TOML table in config key order, durations and
/// sizes written as in a config (result: {"node": node, "spec": {...},
/// "logs": {...}}).
std::string render_show(const nlohmann::json& result, bool color);

/// `start`/`stop`/`restart`: "stopped web.api#0, web.api#1" (`past` is the
/// verb's past tense), or "nothing to stop" when nothing was affected.
std::string render_affected(const std::string& verb, const std::string& past,
                            const nlohmann::json& result);

/// A progress item of `stop`/`restart` (an event with the app's
/// `kill_signal` and `kill_timeout_ms`), one line: "web.api#0: sent SIGTERM
/// (pid 4242); SIGKILL if it has not exited within 5s (kill_timeout)" for
/// `stopping`, "web.api#0: still running after 5s (kill_timeout): sent
/// SIGKILL" for `killed`; "" for any other kind.
std::string render_progress(const nlohmann::json& item);

/// `scale`: "scaled web.api from 2 to 4 instances".
std::string render_scale(const nlohmann::json& result);

/// `signal`: "sent SIGHUP to web.api#0 (pid 4242), web.api#1 (pid 4243)".
/// `signal` is the name sent ("HUP").
std::string render_signaled(const std::string& signal, const nlohmann::json& result);

/// `apply`: "+ added", "- removed", "~ changed (restarted: env, command
/// changed)" (the keys when the result has `changes`), "~ scaled (scaled
/// 2 → 4)" (with `scale`), then "N unchanged" ("no changes (N unchanged)"
/// alone). A dry run's plan says "would start", "would stop", ... and ends
/// with "dry run: nothing was changed".
std::string render_apply(const nlohmann::json& result, bool color);

/// Column widths shared by the lines of one event listing; they only grow,
/// so a followed stream stays aligned as far as it can.
struct event_columns {
  size_t offender = 0;
  size_t kind = 0;
};

/// One event as a log line (no newline):
/// `2026-11-21T12:00:03.412Z  web.api#0  child_exited  exit(1)  pid 4242`.
std::string render_event(const nlohmann::json& event, bool color, event_columns& cols);
std::string render_event(const nlohmann::json& event, bool color);

/// Every event of a result ({"events":[...]}), aligned, one per line.
std::string render_events(const nlohmann::json& result, bool color);

/// An error reply's object as printed on stderr: "arbor: <message>\n", then
/// each of its "diagnostics" on its own line.
std::string render_error(const nlohmann::json& error);

/// Number of terminal columns `s` takes: UTF-8 code points, ANSI escapes
/// excluded.
size_t display_width(const std::string& s);

/// `s` cut to `width` columns, the last one "…" (escapes kept; with `color`
/// a reset follows). Unchanged if it fits or `width` is 0.
std::string truncate_display(const std::string& s, size_t width, bool color);

} // namespace arbor::cli
