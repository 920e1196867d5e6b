// The keys of an app table read into an app_spec: TOML types, unknown keys,
// which keys go together, and parsing values (a command line, a signal
// name, a duration). Rules about the values are validate()'s.

#include <cctype>
#include <limits>
#include <functional>
#include <map>
#include <stdexcept>

#include "config/detail.hpp"
#include "config/dotenv.hpp"
#include "config/pm2_keys.hpp"
#include "config/shell_split.hpp"
#include "config/suggest.hpp"
#include "config/units.hpp"
#include "config/validate.hpp"

namespace arbor::config::detail {

namespace {

constexpr int64_t u32_max = std::numeric_limits<uint32_t>::max();
const millis ms_unit{1};

std::string quote(std::string_view s) { return "'" + std::string{s} + "'"; }

struct app_reader {
  context& cx;
  const toml::table& t;
  app_spec& app;
  std::map<std::string_view, const toml::node*> keys;
  std::vector<entry> overlays; ///< env_<name>, in file order

  const toml::node* find(std::string_view key) const {
    auto i = keys.find(key);
    return i == keys.end() ? nullptr : i->second;
  }

  std::string in_app() const { return " in app '" + app.name + "'"; }

  /// Reads every key in app_fields() order through key_readers().
  void run();

  void duration(std::string_view key, millis& out) {
    if (auto n = find(key))
      if (auto v = get_duration(cx, *n, key, ms_unit)) out = *v;
  }

  template <class T>
  void integer(std::string_view key, int64_t min, int64_t max, T& out) {
    if (auto n = find(key))
      if (auto v = get_integer(cx, *n, key, min, max)) out = static_cast<T>(*v);
  }

  void size(std::string_view key, uint64_t& out) {
    if (auto n = find(key))
      if (auto v = get_size(cx, *n, key)) out = *v;
  }

  /// In the spec 0 means no limit; written, it is a mistake.
  void max_memory() {
    auto n = find("max_memory");
    if (!n) return;
    auto v = get_size(cx, *n, "max_memory");
    if (v && *v == 0)
      cx.error(*n, "'max_memory' must be greater than 0 (leave it out for no limit)");
    else if (v)
      app.max_memory = *v;
  }

  void string(std::string_view key, std::string& out) {
    if (auto n = find(key))
      if (auto s = get_string(cx, *n, key)) out = *s;
  }

  void collect() {
    for (const auto& e : in_file_order(t)) {
      if (is_app_key(e.key)) {
        keys[e.key] = e.value;
        app.key_where.emplace_back(std::string{e.key}, cx.pos(e.value->source()));
        continue;
      }
      if (is_env_overlay_key(e.key)) {
        overlays.push_back(e);
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
        auto hint = pm2_hint(e.key);
        if (hint.empty()) hint = did_you_mean(e.key, app_keys());
        message = "unknown key " + quote(e.key) + in_app() + hint;
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
    if (!arr->empty()) app.key_where.emplace_back("args[0]", cx.pos(arr->get(0)->source()));
    app.command = shell_join(argv);
    app.argv = std::move(argv);
  }

  void read_cwd() {
    app.cwd = cx.base_dir;
    if (auto n = find("cwd")) {
      if (auto s = get_string(cx, *n, "cwd")) {
        if (s->empty())
          cx.error(*n, "'cwd' is empty" + in_app() + " (leave it out for the config's directory)");
        else
          app.cwd = absolute_path(cx.base_dir, *s);
      }
    }
  }

  /// env_file first, then env, then the selected env_<name>: later wins.
  void read_env_keys() {
    if (auto n = find("env_file")) read_env_file(*n);
    if (auto n = find("env")) read_env_table(cx, *n, "env", app, app.env);
    read_env_overlays(cx, overlays, app);
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
  }

  void read_stop_exit_codes() {
    auto n = find("stop_exit_codes");
    if (!n) return;
    auto arr = n->as_array();
    if (!arr) {
      cx.error(*n, "'stop_exit_codes' must be an array of integers, got "
                     + std::string{type_name(*n)});
      return;
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      auto key = "stop_exit_codes[" + std::to_string(i) + "]";
      if (auto v = get_integer(cx, *arr->get(i), key, 0, max_exit_code))
        app.stop_exit_codes.push_back(static_cast<int>(*v));
    }
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
    app.kill_signal = *sig;
  }

  /// `watch = true` (the app's cwd) or paths, relative to the cwd.
  void read_watch(const toml::node& n) {
    if (auto b = n.as_boolean()) {
      if (b->get()) app.watch = {app.cwd};
      return;
    }
    std::vector<std::string> paths;
    if (!n.as_array() || !read_strings(n, "watch", paths)) {
      if (!n.as_array())
        cx.error(n, "'watch' must be true, false or an array of paths, got " + std::string{type_name(n)});
      return;
    }
    for (auto& p : paths) app.watch.push_back(absolute_path(app.cwd, p));
  }

  /// An array of non-empty strings into `out`; false after an error.
  bool read_strings(const toml::node& n, const std::string& key, std::vector<std::string>& out) {
    auto arr = n.as_array();
    if (!arr) {
      cx.error(n, quote(key) + " must be an array of strings, got " + std::string{type_name(n)});
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < arr->size(); ++i) {
      const auto& el = *arr->get(i);
      auto at = key + "[" + std::to_string(i) + "]";
      auto s = get_string(cx, el, at);
      if (s && s->empty()) cx.error(el, quote(at) + " is empty" + in_app());
      if (!s || s->empty()) {
        ok = false;
        continue;
      }
      out.push_back(*s);
      app.key_where.emplace_back(at, cx.pos(el.source()));
    }
    return ok;
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
      app.depends_on.push_back(*s); // resolved by validate()
      app.key_where.emplace_back(key, cx.pos(el.source()));
    }
  }
};

using key_reader = std::function<void(app_reader&)>;

/// How each key of app_fields() is read; a key read together with another
/// one has an empty reader. A key missing here is an internal error on every
/// load, so the table and the readers cannot drift apart.
const std::map<std::string_view, key_reader>& key_readers() {
  using r_ = app_reader&;
  static const std::map<std::string_view, key_reader> readers = {
    {"command", [](r_ r) { r.read_command(); }}, // and args, shell
    {"args", {}},
    {"shell", {}},
    {"cwd", [](r_ r) { r.read_cwd(); }},
    {"env", [](r_ r) { r.read_env_keys(); }}, // and env_file
    {"env_file", {}},
    // Ranges as validate() has them: a value outside is never stored.
    {"instances", [](r_ r) { r.integer("instances", 1, max_instances, r.app.instances); }},
    {"restart", [](r_ r) { r.read_restart(); }}, // and restart_on_exit
    {"restart_on_exit", {}},
    {"stop_exit_codes", [](r_ r) { r.read_stop_exit_codes(); }},
    {"max_restarts", [](r_ r) { r.integer("max_restarts", 0, u32_max, r.app.max_restarts); }},
    {"min_uptime", [](r_ r) { r.duration("min_uptime", r.app.min_uptime); }},
    {"restart_delay_ms", [](r_ r) { r.duration("restart_delay_ms", r.app.restart_delay); }},
    {"backoff_base_ms", [](r_ r) { r.duration("backoff_base_ms", r.app.backoff_base); }},
    {"backoff_max_ms", [](r_ r) { r.duration("backoff_max_ms", r.app.backoff_max); }},
    {"kill_signal", [](r_ r) { if (auto n = r.find("kill_signal")) r.read_signal(*n); }},
    {"kill_timeout", [](r_ r) { r.duration("kill_timeout", r.app.kill_timeout); }},
    // In the spec 0 is no port; written, it is a mistake.
    {"port", [](r_ r) { r.integer("port", 1, 65535, r.app.port); }},
    {"max_memory", [](r_ r) { r.max_memory(); }},
    {"cron_restart", [](r_ r) { r.string("cron_restart", r.app.cron_restart); }},
    {"cron_tz", [](r_ r) { r.string("cron_tz", r.app.cron_tz); }},
    {"watch", [](r_ r) { if (auto n = r.find("watch")) r.read_watch(*n); }},
    {"watch_ignore", [](r_ r) {
       if (auto n = r.find("watch_ignore")) r.read_strings(*n, "watch_ignore", r.app.watch_ignore);
     }},
    {"watch_debounce", [](r_ r) { r.duration("watch_debounce", r.app.watch_debounce); }},
    {"health_check", [](r_ r) { if (auto n = r.find("health_check")) read_health_check(r.cx, *n, r.app); }},
    {"ready", [](r_ r) { r.string("ready", r.app.ready); }},
    {"depends_on", [](r_ r) { if (auto n = r.find("depends_on")) r.read_depends_on(*n); }},
    {"listen", [](r_ r) { if (auto n = r.find("listen")) read_listen(r.cx, *n, r.app); }},
    {"memory_max", [](r_ r) { if (auto n = r.find("memory_max")) read_memory_max(r.cx, *n, r.app); }},
    {"cpu_max", [](r_ r) { if (auto n = r.find("cpu_max")) read_cpu_max(r.cx, *n, r.app); }},
    {"cpu_weight", [](r_ r) { r.integer("cpu_weight", 1, 10000, r.app.cpu_weight); }},
    {"pids_max", [](r_ r) { r.integer("pids_max", 1, 4194304, r.app.pids_max); }},
    {"user", [](r_ r) { if (auto n = r.find("user")) read_id(r.cx, *n, "user", r.app.user); }},
    {"group", [](r_ r) { if (auto n = r.find("group")) read_id(r.cx, *n, "group", r.app.group); }},
    {"umask", [](r_ r) { if (auto n = r.find("umask")) read_umask(r.cx, *n, r.app); }},
    {"rlimits", [](r_ r) { if (auto n = r.find("rlimits")) read_rlimits(r.cx, *n, r.app); }},
    {"nice", [](r_ r) { r.integer("nice", -20, 19, r.app.nice); }},
    {"oom_score_adj", [](r_ r) { r.integer("oom_score_adj", -1000, 1000, r.app.oom_score_adj); }},
    {"log_max_size", [](r_ r) { r.size("log_max_size", r.app.log.max_size); }},
    {"log_max_files", [](r_ r) { r.integer("log_max_files", 1, max_log_files, r.app.log.max_files); }},
    {"log_date_format", [](r_ r) { r.string("log_date_format", r.app.log.date_format); }},
  };
  return readers;
}

const key_reader& reader_of(std::string_view key) {
  auto r = key_readers().find(key);
  if (r == key_readers().end())
    throw std::logic_error("app key '" + std::string{key} + "' has no TOML reader");
  return r->second;
}

void app_reader::run() {
  collect();
  const auto& fields = app_fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& read = reader_of(fields[i].key);
    if (!read) continue;
    auto before = cx.errors.size();
    read(*this);
    if (cx.errors.size() == before) continue;
    // This key and the ones read with it (the empty readers after it).
    for (size_t k = i; k < fields.size() && (k == i || !reader_of(fields[k].key)); ++k)
      if (find(fields[k].key)) cx.refused.push_back(app.where_of(std::string{fields[k].key}));
  }
}

} // namespace

void read_app(context& cx, const toml::table& t, app_spec& app) {
  app_reader{cx, t, app, {}, {}}.run();
}

} // namespace arbor::config::detail
