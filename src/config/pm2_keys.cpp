#include "config/pm2_keys.hpp"

#include <array>

namespace arbor::config {

namespace {

// Keys PM2 and arbor spell the same with the same meaning (name, cwd, env,
// instances, cron_restart, max_restarts, min_uptime, watch) are not listed:
// they need no hint, and `arbor import` copies them.
constexpr std::array<pm2_key, 20> table{{
  {"script", "command", "command = \"node app.js\" (the interpreter and the script in one command)"},
  {"interpreter", "command", "put the interpreter first in 'command', e.g. command = \"python3 app.py\""},
  {"interpreter_args", "command", "put them after the interpreter in 'command'"},
  {"node_args", "command", "put them after node in 'command', e.g. command = \"node --inspect app.js\""},
  {"autorestart", "restart", "autorestart = false is restart = \"never\"; true is the default"},
  {"max_memory_restart", "max_memory", "max_memory = \"300M\" (a graceful restart over it)"},
  {"restart_delay", "restart_delay_ms", "restart_delay_ms = 1000"},
  {"exp_backoff_restart_delay", "backoff_base_ms", "backoff_base_ms = 100 (doubling up to backoff_max_ms)"},
  {"exec_mode", "", "no cluster mode: instances are processes of their own; share a port with 'listen' (arbor holds the socket) or SO_REUSEPORT"},
  {"wait_ready", "ready", "ready = \"notify\" (the app sends READY=1 by sd_notify) or a health_check"},
  {"listen_timeout", "health_check", "with a health_check, start_period bounds how long a start may take"},
  {"kill_retry_time", "", "arbor sends kill_signal once, then SIGKILL after kill_timeout"},
  {"out_file", "", "stdout goes to $ARBOR_HOME/logs/<app>.out.log (rotated: log_max_size, log_max_files)"},
  {"error_file", "", "stderr goes to $ARBOR_HOME/logs/<app>.err.log (rotated: log_max_size, log_max_files)"},
  {"log_file", "", "arbor keeps stdout and stderr apart: <app>.out.log and <app>.err.log"},
  {"log_date_format", "log_date_format", "log_date_format takes an strftime format, e.g. \"%Y-%m-%d %H:%M:%S\""},
  {"ignore_watch", "watch_ignore", "watch_ignore = [\"*.tmp\"] (globs; .git, node_modules and logs are never watched)"},
  {"watch_delay", "watch_debounce", "watch_debounce = \"300ms\" (quiet time after a change)"},
  {"uid", "user", "user = \"www-data\" (a name or a uid; another user needs arbor to run as root)"},
  {"gid", "group", "group = \"www-data\" (a name or a gid; default: the user's primary group)"},
}};

} // namespace

const pm2_key* find_pm2_key(std::string_view key) {
  for (const auto& k : table)
    if (k.pm2 == key) return &k;
  return nullptr;
}

std::string pm2_hint(std::string_view key) {
  const pm2_key* k = find_pm2_key(key);
  if (!k || k->arbor == key) return {};
  return " (PM2's '" + std::string{key} + "': " + std::string{k->how} + ")";
}

} // namespace arbor::config
