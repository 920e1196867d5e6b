#include "cli/pm2_import.hpp"

#include "config/loader.hpp"
#include "config/pm2_keys.hpp"
#include "config/shell_split.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace arbor::cli {

namespace {

using nlohmann::json;

/// The interpreter PM2 picks for a script by its extension ("" = exec it).
std::string interpreter_for(const std::string& script) {
  const auto dot = script.rfind('.');
  if (dot == std::string::npos || script.find('/', dot) != std::string::npos) return {};
  const std::string ext = script.substr(dot);
  if (ext == ".js" || ext == ".cjs" || ext == ".mjs") return "node";
  if (ext == ".py") return "python3";
  if (ext == ".sh") return "bash";
  if (ext == ".rb") return "ruby";
  if (ext == ".pl") return "perl";
  if (ext == ".php") return "php";
  return {};
}

/// A string or an array of strings as words (a string split by shell rules).
std::vector<std::string> words_of(const json& v, std::string& error) {
  if (v.is_array()) {
    std::vector<std::string> out;
    for (const auto& w : v) out.push_back(w.is_string() ? w.get<std::string>() : w.dump());
    return out;
  }
  if (!v.is_string()) return {v.dump()};
  auto split = config::detail::shell_split(v.get<std::string>(), error);
  return split ? split->words : std::vector<std::string>{};
}

/// A JSON scalar as the text an environment variable holds.
std::string env_text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

struct app_converter {
  const json& in;
  unsigned cpus;
  std::string name;
  toml::table out;
  std::vector<std::string> notes;

  void note(const std::string& key, const std::string& why) {
    notes.push_back(name + ": " + key + " = " + in.at(key).dump() + " " + why);
  }

  void command() {
    std::vector<std::string> argv;
    std::string error;
    std::string interp = in.value("interpreter", std::string{});
    const std::string script = in.value("script", std::string{});
    if (interp.empty()) interp = interpreter_for(script);
    if (interp == "none") interp.clear();
    if (!interp.empty()) {
      argv.push_back(interp);
      for (const char* k : {"interpreter_args", "node_args"})
        if (in.contains(k)) {
          auto w = words_of(in.at(k), error);
          argv.insert(argv.end(), w.begin(), w.end());
        }
    }
    // PM2 runs a bare script name from the cwd; arbor would search PATH.
    const bool bare = interp.empty() && script.find('/') == std::string::npos;
    argv.push_back(bare && !script.empty() && script.find('.') != std::string::npos ? "./" + script
                                                                                   : script);
    if (in.contains("args")) {
      auto w = words_of(in.at("args"), error);
      argv.insert(argv.end(), w.begin(), w.end());
    }
    if (!error.empty()) notes.push_back(name + ": args: " + error);
    out.insert("command", config::detail::shell_join(argv));
  }

  void instances() {
    const json& v = in.at("instances");
    long n = v.is_number_integer() ? v.get<long>() : (v == "max" ? 0 : -2);
    if (v.is_string() && v != "max") {
      try { n = std::stol(v.get<std::string>()); } catch (...) { n = -2; }
    }
    if (n < -1) return note("instances", "not converted: not a count");
    if (n <= 0) {
      const long c = std::max(1L, static_cast<long>(cpus) + n); // max/0: cpus, -1: cpus - 1
      note("instances", "converted to " + std::to_string(c) + " (this machine's CPUs)");
      n = c;
    }
    out.insert("instances", static_cast<int64_t>(n));
  }

  void strings_or_bool(const std::string& to, const json& v) {
    if (v.is_boolean()) return void(out.insert(to, v.get<bool>()));
    toml::array a;
    for (const auto& x : v) a.push_back(env_text(x));
    out.insert(to, std::move(a));
  }

  void copy_number(const std::string& key, const std::string& to) {
    const json& v = in.at(key);
    if (v.is_number_integer()) out.insert(to, v.get<int64_t>());
    else if (v.is_string()) out.insert(to, v.get<std::string>());
    else note(key, "not converted: not a number");
  }

  void one(const std::string& key) {
    const json& v = in.at(key);
    if (key == "name" || key == "script" || key == "args" || key == "interpreter"
        || key == "interpreter_args" || key == "node_args")
      return; // in the name and the command
    if (key == "instances") return instances();
    if (key == "cwd" && v.is_string()) return void(out.insert("cwd", v.get<std::string>()));
    if (key == "cron_restart" && v.is_string()) return void(out.insert(key, v.get<std::string>()));
    if (key == "watch" && (v.is_boolean() || v.is_array())) return strings_or_bool("watch", v);
    if (key == "ignore_watch" && v.is_array()) return strings_or_bool("watch_ignore", v);
    if (key == "watch_delay") return copy_number(key, "watch_debounce");
    if (key == "autorestart" && v.is_boolean()) {
      if (!v.get<bool>()) out.insert("restart", "never");
      return;
    }
    if (key == "exec_mode" && v == "fork") return;
    // env_production and the like stay overlays: `arbor up --env production`.
    const bool overlay = key.rfind("env_", 0) == 0 && config::is_env_name(key.substr(4));
    if ((key == "env" || overlay) && v.is_object()) {
      toml::table env;
      for (const auto& [k, x] : v.items()) env.insert(k, env_text(x));
      return void(out.insert(key, std::move(env)));
    }
    if (key == "max_memory_restart") return copy_number(key, "max_memory");
    if (key == "restart_delay") return copy_number(key, "restart_delay_ms");
    if (key == "exp_backoff_restart_delay") return copy_number(key, "backoff_base_ms");
    if (key == "uid" || key == "gid") return copy_number(key, key == "uid" ? "user" : "group");
    if (key == "max_restarts" || key == "min_uptime" || key == "kill_timeout")
      return copy_number(key, key);
    if (key.rfind("env_", 0) == 0)
      return note(key, "not converted: an environment is a table and its name (after 'env_') "
                       "letters, digits, '_' and '-'");
    if (const auto* k = config::find_pm2_key(key))
      return note(key, "not converted: " + std::string{k->how});
    note(key, "not converted: not a PM2 app key arbor knows");
  }

  void run() {
    if (!in.contains("script")) notes.push_back(name + ": no 'script': the command is empty");
    command();
    for (const auto& [key, v] : in.items()) one(key);
  }
};

std::vector<json> apps_of(const json& eco, std::string& error) {
  if (eco.is_object() && eco.contains("apps")) {
    if (eco.at("apps").is_array()) return eco.at("apps").get<std::vector<json>>();
    if (eco.at("apps").is_object()) return {eco.at("apps")};
  } else if (eco.is_array()) {
    return eco.get<std::vector<json>>();
  } else if (eco.is_object() && eco.contains("script")) {
    return {eco};
  }
  error = "not a PM2 ecosystem: expected {\"apps\": [...]}, an array of apps, or one app with 'script'";
  return {};
}

} // namespace

std::string toml_text(const toml::table& t) {
  constexpr auto flags = toml::toml_formatter::default_flags
                         & ~(toml::format_flags::allow_literal_strings | toml::format_flags::allow_multi_line_strings
                             | toml::format_flags::indentation);
  std::ostringstream o;
  o << toml::toml_formatter{t, flags};
  return o.str();
}

std::string toml_string(const std::string& s) {
  std::string line = toml_text(toml::table{{"v", s}}).substr(4); // past "v = "
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

std::string app_name_from(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '-';
    out += ok ? c : '-';
  }
  if (out.size() > 64) out.resize(64);
  return out.find_first_not_of('-') == std::string::npos ? "app" : out;
}

std::string script_name(const std::string& script) {
  auto base = script.substr(script.rfind('/') + 1);
  return base.substr(0, base.find('.'));
}

std::string command_name(const std::vector<std::string>& words) {
  if (words.empty()) return "app";
  auto prog = words[0].substr(words[0].rfind('/') + 1);
  static const std::set<std::string> interpreters{
    "node", "nodejs", "bun", "deno", "python", "python2", "python3", "ruby", "perl", "php",
    "sh", "bash", "dash", "zsh"};
  // python3.11 is python3's kind; `bun run x` and `deno run x` name x.
  if (interpreters.count(prog.substr(0, prog.find('.'))) == 0) return app_name_from(prog);
  const bool shell = prog == "sh" || prog == "bash" || prog == "dash" || prog == "zsh";
  for (size_t i = 1; i < words.size(); ++i) {
    const auto& w = words[i];
    if (shell && w == "-c") break; // a command line, not a script
    if (w == "-m" && prog.rfind("python", 0) == 0 && i + 1 < words.size())
      return app_name_from(words[i + 1]); // python3 -m http.server: http-server
    if (w.empty() || w[0] == '-' || ((prog == "bun" || prog == "deno") && w == "run")) continue;
    auto base = script_name(w);
    return app_name_from(base.empty() ? prog : base);
  }
  return app_name_from(prog);
}

pm2_import_result import_pm2(const nlohmann::json& ecosystem, unsigned cpus) {
  pm2_import_result res;
  auto apps = apps_of(ecosystem, res.error);
  if (!res.error.empty()) return res;
  if (apps.empty()) {
    res.error = "the ecosystem lists no apps";
    return res;
  }
  std::set<std::string> taken;
  std::ostringstream text;
  for (size_t i = 0; i < apps.size(); ++i) {
    if (!apps[i].is_object()) {
      res.notes.push_back("apps[" + std::to_string(i) + "] is not an object: skipped");
      continue;
    }
    std::string base = apps[i].value("name", std::string{});
    if (base.empty()) {
      base = script_name(apps[i].value("script", std::string{}));
    }
    std::string name = app_name_from(base);
    for (int n = 2; taken.count(name); ++n) name = app_name_from(base) + "-" + std::to_string(n);
    taken.insert(name);
    if (apps[i].contains("name") && apps[i].at("name") != name)
      res.notes.push_back(name + ": name " + apps[i].at("name").dump() + " became '" + name + "'");
    app_converter c{apps[i], cpus, name, {}, {}};
    c.run();
    res.notes.insert(res.notes.end(), c.notes.begin(), c.notes.end());
    text << (i ? "\n" : "") << toml_text(toml::table{{name, std::move(c.out)}}) << "\n";
  }
  res.toml = text.str();
  return res;
}

} // namespace arbor::cli
