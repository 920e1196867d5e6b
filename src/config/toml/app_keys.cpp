// The keys of an app table: types, ranges and cross-key rules.

#include <cctype>
#include <csignal>
#include <limits>
#include <map>

#include "config/cron_check.hpp"
#include "config/detail.hpp"
#include "config/dotenv.hpp"
#include "config/shell_split.hpp"
#include "config/suggest.hpp"
#include "config/units.hpp"
#include "config/validate.hpp"

namespace arbor::config::detail {

namespace {

constexpr int64_t u32_max = std::numeric_limits<uint32_t>::max();
const millis ms_unit{1};

std::string quote(std::string_view s) { return "'" + std::string{s} + "'"; }

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

struct app_reader {
  context& cx;
  const toml::table& t;
  app_spec& app;
  std::map<std::string_view, const toml::node*> keys;
  const toml::node* health_at = nullptr; ///< a valid health target, for placeholder checks

  const toml::node* find(std::string_view key) const {
    auto i = keys.find(key);
    return i == keys.end() ? nullptr : i->second;
  }

  std::string in_app() const { return " in app '" + app.name + "'"; }

  void run() {
    collect();
    read_command();
    read_paths_and_env();
    read_restart();
    read_timing();
    read_later_keys();
    if (auto n = find("health_check")) health_at = read_health_check(cx, *n, app.name, app.health);
    check_placeholders();
  }

  void collect() {
    for (const auto& e : in_file_order(t)) {
      if (is_app_key(e.key)) {
        keys[e.key] = e.value;
        app.key_where.emplace_back(std::string{e.key}, cx.pos(e.value->source()));
        continue;
      }
      std::string message;
      auto sub = e.value->as_table();
      if (sub && (sub->contains("command") || sub->contains("args"))) {
        message = "app '" + app.name + "' cannot contain app '" + app.name + "."
                  + std::string{e.key}
                  + "' (only groups hold apps; a group is a table without 'command')";
      } else if (is_group_key(e.key)) {
        message = quote(e.key) + " is a group setting, not allowed" + in_app();
      } else {
        message = "unknown key " + quote(e.key) + in_app() + did_you_mean(e.key, app_keys());
      }
      cx.error(e.key_source(), message);
    }
  }

  void read_command() {
    auto command = find("command");
    auto args = find("args");
    auto shell = find("shell");
    if (shell)
      if (auto b = get_bool(cx, *shell, "shell")) app.shell = *b;
    if (command && args) {
      cx.error(*args, "'command' and 'args' are mutually exclusive" + in_app() + ": give one");
      return;
    }
    if (command) {
      auto s = get_string(cx, *command, "command");
      if (!s) return;
      app.command = *s;
      if (blank(*s)) {
        cx.error(*command, "'command' is empty" + in_app());
        return;
      }
      if (app.shell) {
        app.argv = {"/bin/sh", "-c", *s};
        return;
      }
      std::string error;
      auto split = shell_split(*s, error);
      if (!split) {
        cx.error(*command, "'command': " + error);
      } else if (split->shell_syntax_at != std::string_view::npos) {
        cx.error(*command, "'command' uses shell syntax '" + split->shell_syntax
                             + "', which arbor does not interpret: set shell = true, or "
                               "single-quote it to pass it literally");
      } else if (split->words.empty() || split->words.front().empty()) {
        cx.error(*command, "'command' has no program to run" + in_app());
      } else {
        app.argv = std::move(split->words);
      }
      return;
    }
    if (!args) return;
    if (app.shell) {
      cx.error(*shell, "'shell = true' cannot be combined with 'args'" + in_app()
                         + " (use 'command' for a shell command line)");
      return;
    }
    auto arr = args->as_array();
    if (!arr) {
      cx.error(*args, "'args' must be an array of strings, got " + std::string{type_name(*args)});
      return;
    }
    if (arr->empty()) {
      cx.error(*args, "'args' is empty" + in_app() + ": args[0] is the program to run");
      return;
    }
    std::vector<std::string> argv;
    bool ok = true;
    for (size_t i = 0; i < arr->size(); ++i) {
      const auto& el = *arr->get(i);
      auto s = el.as_string();
      if (!s) {
        cx.error(el, "'args[" + std::to_string(i) + "]' must be a string, got " + type_name(el));
        ok = false;
        continue;
      }
      argv.push_back(s->get());
    }
    if (!ok) return;
    if (argv.front().empty()) {
      cx.error(*arr->get(0), "'args[0]' (the program to run) is empty");
      return;
    }
    app.command = shell_join(argv);
    app.argv = std::move(argv);
  }

  void read_paths_and_env() {
    app.cwd = cx.base_dir;
    if (auto n = find("cwd")) {
      if (auto s = get_string(cx, *n, "cwd")) {
        if (s->empty())
          cx.error(*n, "'cwd' is empty" + in_app() + " (leave it out for the config's directory)");
        else
          app.cwd = absolute_path(cx.base_dir, *s);
      }
    }
    if (auto n = find("env_file")) read_env_file(*n);
    if (auto n = find("env")) read_env(*n);
  }

  void read_env_file(const toml::node& n) {
    auto s = get_string(cx, n, "env_file");
    if (!s) return;
    if (s->empty()) {
      cx.error(n, "'env_file' is empty" + in_app());
      return;
    }
    app.env_file = *s;
    std::string error;
    auto text = read_whole_file(absolute_path(cx.base_dir, *s), error);
    if (!text) {
      cx.error(n, "env_file " + quote(*s) + ": cannot read: " + error);
      return;
    }
    auto parsed = parse_dotenv(*text);
    for (const auto& e : parsed.errors)
      cx.error(n, "env_file " + quote(*s) + " line " + std::to_string(e.line) + ": " + e.message);
    for (auto& kv : parsed.vars) app.env.push_back(std::move(kv));
  }

  void read_env(const toml::node& n) {
    auto table = n.as_table();
    if (!table) {
      cx.error(n, "'env' must be a table of NAME = \"value\", got " + std::string{type_name(n)});
      return;
    }
    for (const auto& e : in_file_order(*table)) {
      std::string key{e.key};
      if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos) {
        cx.error(e.key_source(), "invalid environment variable name " + quote(key) + in_app());
        continue;
      }
      const auto& v = *e.value;
      std::string value;
      if (auto s = v.as_string())
        value = s->get();
      else if (auto i = v.as_integer())
        value = std::to_string(i->get());
      else if (auto f = v.as_floating_point())
        value = format_number(f->get());
      else if (auto b = v.as_boolean())
        value = b->get() ? "true" : "false";
      else {
        cx.error(v, "'env." + key + "' must be a string, number or boolean, got " + type_name(v));
        continue;
      }
      app.env.emplace_back(std::move(key), std::move(value));
    }
  }

  void read_restart() {
    auto restart = find("restart");
    auto on_exit = find("restart_on_exit");
    std::optional<restart_policy> from_restart;
    if (restart) {
      if (auto s = get_string(cx, *restart, "restart")) {
        static const std::vector<std::pair<std::string_view, restart_policy>> names = {
          {"on_failure", restart_policy::on_failure}, {"always", restart_policy::always},
          {"never", restart_policy::never},           {"transient", restart_policy::on_failure},
          {"permanent", restart_policy::always},      {"temporary", restart_policy::never},
        };
        for (const auto& [name, policy] : names)
          if (*s == name) from_restart = policy;
        if (from_restart) {
          app.restart = *from_restart;
        } else {
          std::vector<std::string_view> candidates;
          for (const auto& nm : names) candidates.push_back(nm.first);
          cx.error(*restart, "'restart' must be \"on_failure\", \"always\" or \"never\" (or "
                             "\"transient\", \"permanent\", \"temporary\"), got "
                               + quote(*s) + did_you_mean(*s, candidates));
        }
      }
    }
    if (on_exit) {
      if (auto b = get_bool(cx, *on_exit, "restart_on_exit")) {
        auto policy = *b ? restart_policy::always : restart_policy::never;
        if (from_restart && *from_restart != policy) {
          cx.error(*on_exit, std::string{"'restart_on_exit = "} + (*b ? "true" : "false")
                               + "' conflicts with 'restart = \"" + restart->as_string()->get()
                               + "\"'" + in_app() + ": keep one");
        } else {
          app.restart = policy;
        }
      }
    }
    if (auto n = find("stop_exit_codes")) {
      auto arr = n->as_array();
      if (!arr) {
        cx.error(*n, "'stop_exit_codes' must be an array of integers, got "
                       + std::string{type_name(*n)});
      } else {
        for (size_t i = 0; i < arr->size(); ++i) {
          auto key = "stop_exit_codes[" + std::to_string(i) + "]";
          if (auto v = get_integer(cx, *arr->get(i), key, 0, 255))
            app.stop_exit_codes.push_back(static_cast<int>(*v));
        }
      }
    }
    if (auto n = find("max_restarts"))
      if (auto v = get_integer(cx, *n, "max_restarts", 0, u32_max))
        app.max_restarts = static_cast<uint32_t>(*v);
  }

  void read_timing() {
    if (auto n = find("instances"))
      if (auto v = get_integer(cx, *n, "instances", 1, max_instances)) app.instances = static_cast<uint32_t>(*v);
    if (auto n = find("min_uptime"))
      if (auto v = get_duration(cx, *n, "min_uptime", ms_unit)) app.min_uptime = *v;
    if (auto n = find("restart_delay_ms"))
      if (auto v = get_duration(cx, *n, "restart_delay_ms", ms_unit)) app.restart_delay = *v;
    // 0, or more than backoff_max_ms: validate() says so.
    if (auto n = find("backoff_base_ms"))
      if (auto v = get_duration(cx, *n, "backoff_base_ms", ms_unit)) app.backoff_base = *v;
    if (auto n = find("backoff_max_ms"))
      if (auto v = get_duration(cx, *n, "backoff_max_ms", ms_unit)) app.backoff_max = *v;
    if (auto n = find("kill_signal")) read_signal(*n);
    if (auto n = find("kill_timeout"))
      if (auto v = get_duration(cx, *n, "kill_timeout", ms_unit)) app.kill_timeout = *v;
  }

  void read_signal(const toml::node& n) {
    std::string text;
    if (auto s = n.as_string()) {
      text = s->get();
    } else if (auto i = n.as_integer()) {
      text = std::to_string(i->get());
    } else {
      cx.error(n, "'kill_signal' must be a signal name like \"SIGTERM\" or a number, got "
                    + std::string{type_name(n)});
      return;
    }
    auto sig = parse_signal(text);
    if (!sig) {
      static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (int i = 1; i < 32; ++i)
          if (parse_signal(std::to_string(i))) out.push_back(signal_name(i));
        return out;
      }();
      std::vector<std::string_view> candidates{names.begin(), names.end()};
      auto upper = text;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper.rfind("SIG", 0) != 0) upper = "SIG" + upper;
      cx.error(n, "'kill_signal': unknown signal " + quote(text) + did_you_mean(upper, candidates));
      return;
    }
    if (*sig == SIGSTOP) {
      cx.error(n, "'kill_signal' cannot be SIGSTOP: it pauses a process instead of ending it");
      return;
    }
    app.kill_signal = *sig;
  }

  void read_later_keys() {
    if (auto n = find("max_memory")) {
      auto v = get_size(cx, *n, "max_memory");
      if (v && *v == 0)
        cx.error(*n, "'max_memory' must be greater than 0 (leave it out for no limit)");
      else if (v)
        app.max_memory = *v;
    }
    if (auto n = find("cron_restart")) {
      if (auto s = get_string(cx, *n, "cron_restart")) {
        if (auto err = cron_error(*s))
          cx.error(*n, "'cron_restart': " + *err);
        else
          app.cron_restart = *s;
      }
    }
    if (auto n = find("cron_tz")) {
      if (auto s = get_string(cx, *n, "cron_tz")) {
        if (auto err = timezone_error(*s))
          cx.error(*n, "'cron_tz': " + *err);
        else
          app.cron_tz = *s;
      }
    }
    if (auto n = find("ready")) {
      if (auto s = get_string(cx, *n, "ready")) {
        if (*s == "notify")
          app.ready = *s;
        else
          cx.error(*n, "'ready' must be \"notify\", got " + quote(*s));
      }
    }
    if (auto n = find("port"))
      if (auto v = get_integer(cx, *n, "port", 1, 65535)) app.port = static_cast<uint16_t>(*v);
    if (auto n = find("depends_on")) read_depends_on(*n);
    if (auto n = find("log_max_size")) {
      auto v = get_size(cx, *n, "log_max_size");
      if (v && *v == 0)
        cx.error(*n, "'log_max_size' must be greater than 0");
      else if (v)
        app.log.max_size = *v;
    }
    if (auto n = find("log_max_files"))
      if (auto v = get_integer(cx, *n, "log_max_files", 1, 1000))
        app.log.max_files = static_cast<uint32_t>(*v);
    if (auto n = find("log_date_format"))
      if (auto s = get_string(cx, *n, "log_date_format")) app.log.date_format = *s;
  }

  void read_depends_on(const toml::node& n) {
    auto arr = n.as_array();
    if (!arr) {
      cx.error(n, "'depends_on' must be an array of app or group names, got "
                    + std::string{type_name(n)});
      return;
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      const auto& el = *arr->get(i);
      auto key = "depends_on[" + std::to_string(i) + "]";
      auto s = get_string(cx, el, key);
      if (!s) continue;
      if (s->empty()) {
        cx.error(el, quote(key) + " is empty");
        continue;
      }
      app.depends_on.push_back(*s); // resolved by validate()
      app.key_where.emplace_back(key, cx.pos(el.source()));
    }
  }

  void check_placeholders() {
    if (health_at) check_health_placeholders(cx, *health_at, app);
  }
};

} // namespace

void read_app(context& cx, const toml::table& t, app_spec& app) {
  app_reader{cx, t, app, {}, nullptr}.run();
}

} // namespace arbor::config::detail
