// The rules of one app's values, whoever wrote them: its command, ranges,
// names of things (signal, cron, time zone, readiness) and combinations.

#include <csignal>

#include "config/cron_check.hpp"
#include "config/units.hpp"
#include "config/validate.hpp"

namespace arbor::config::detail {

namespace {

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

struct app_rules {
  const app_spec& app;
  std::vector<diagnostic>& errors;

  std::string in_app() const { return " in app '" + app.name + "'"; }
  bool written(std::string_view key) const { return detail::written(app.key_where, key); }
  void error(const std::string& key, std::string message) {
    errors.push_back({app.where_of(key), std::move(message)});
  }

  /// argv is what runs: it needs a program. The message names what the
  /// config wrote, `command` or `args`; a spec built in code sets argv, so
  /// it hears of `args` unless its command is blank too.
  void command() {
    bool from_command = written("command");
    bool blank_command = blank(app.command) && !written("args");
    if ((app.shell || app.argv.empty()) && blank_command)
      error("command", "'command' is empty" + in_app());
    else if (app.argv.empty() && from_command)
      error("command", "'command' has no program to run" + in_app());
    else if (app.argv.empty())
      error("args", "'args' is empty" + in_app() + ": args[0] is the program to run");
    else if (app.argv.front().empty() && from_command)
      error("command", "'command' has no program to run" + in_app());
    else if (app.argv.front().empty())
      error("args[0]", "'args[0]' (the program to run) is empty");
  }

  void ranges() {
    if (app.instances < 1 || app.instances > max_instances)
      error("instances", range_message("instances", 1, max_instances, app.instances));
    for (size_t i = 0; i < app.stop_exit_codes.size(); ++i) {
      auto key = "stop_exit_codes[" + std::to_string(i) + "]";
      auto code = app.stop_exit_codes[i];
      if (code < 0 || code > max_exit_code) error(key, range_message(key, 0, max_exit_code, code));
    }
    for (auto [key, d] : {std::pair<std::string, millis>{"min_uptime", app.min_uptime},
                          {"restart_delay_ms", app.restart_delay},
                          {"backoff_max_ms", app.backoff_max},
                          {"kill_timeout", app.kill_timeout},
                          {"health_check.start_period", app.health.start_period}})
      if (d.count() < 0) error(key, "'" + key + "' must not be negative");
    if (app.log.max_size == 0) error("log_max_size", "'log_max_size' must be greater than 0");
    if (app.log.max_files < 1 || app.log.max_files > max_log_files)
      error("log_max_files", range_message("log_max_files", 1, max_log_files, app.log.max_files));
    uint64_t last_port = uint64_t{app.port} + app.instances - 1;
    if (app.port != 0 && app.instances > 0 && last_port > 65535)
      error("port", "'port' " + std::to_string(app.port) + " with " + std::to_string(app.instances)
                      + " instances needs ports up to " + std::to_string(last_port)
                      + ", beyond 65535");
  }

  void backoff() {
    if (app.backoff_base.count() <= 0) {
      error("backoff_base_ms", "'backoff_base_ms' must be greater than 0");
    } else if (app.backoff_base > app.backoff_max) {
      auto key = written("backoff_base_ms") ? "backoff_base_ms" : "backoff_max_ms";
      error(key, "'backoff_base_ms' (" + format_duration(app.backoff_base)
                   + ") is larger than 'backoff_max_ms' (" + format_duration(app.backoff_max)
                   + ")" + in_app());
    }
  }

  /// Values that name something: a signal, a schedule, a zone, a readiness.
  void names() {
    if (app.kill_signal == SIGSTOP)
      error("kill_signal", "'kill_signal' cannot be SIGSTOP: it pauses a process instead of ending it");
    else if (!parse_signal(std::to_string(app.kill_signal)))
      error("kill_signal", "'kill_signal': unknown signal '" + std::to_string(app.kill_signal) + "'");
    if (!app.cron_restart.empty() || written("cron_restart"))
      if (auto err = cron_error(app.cron_restart)) error("cron_restart", "'cron_restart': " + *err);
    if (!app.cron_tz.empty() || written("cron_tz"))
      if (auto err = timezone_error(app.cron_tz)) error("cron_tz", "'cron_tz': " + *err);
    if (app.ready != "notify" && (!app.ready.empty() || written("ready")))
      error("ready", "'ready' must be \"notify\", got '" + app.ready + "'");
    for (const auto& [name, value] : app.env)
      if (name.empty() || name.find('=') != std::string::npos
          || name.find('\0') != std::string::npos)
        error("env." + name, "invalid environment variable name '" + name + "'" + in_app());
  }
};

} // namespace

void check_app(const app_spec& app, std::vector<diagnostic>& errors) {
  app_rules r{app, errors};
  r.command();
  r.ranges();
  r.backoff();
  r.names();
  check_health(app, errors);
  check_listen(app, errors);
  check_identity(app, errors);
}

} // namespace arbor::config::detail
