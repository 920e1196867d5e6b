// TOML text → tree_spec: parse, walk tables into groups and apps in file
// order, collect every diagnostic.

#include "config/loader.hpp"

#include <algorithm>
#include <exception>
#include <limits>

#include "config/detail.hpp"
#include "config/limits.hpp"
#include "os/paths.hpp"
#include "config/suggest.hpp"
#include "config/validate.hpp"

// Debian's toml++ 3.3 is built with exceptions; parse errors arrive as
// toml::parse_error (caught below, never past load_*).
static_assert(TOML_EXCEPTIONS, "the config loader expects toml++ with exceptions enabled");

namespace arbor::config {

namespace {

using namespace detail;

bool has_command(const toml::table& t) { return t.contains("command") || t.contains("args"); }

bool has_subtables(const toml::table& t) {
  for (auto&& [k, v] : t)
    if (v.is_table()) return true;
  return false;
}

bool is_array_of_tables(const toml::node& n) {
  auto arr = n.as_array();
  if (!arr || arr->empty()) return false;
  for (const auto& el : *arr)
    if (!el.is_table()) return false;
  return true;
}

std::string describe(const group_spec& g) {
  return g.name.empty() ? std::string{"at top level"} : "in group '" + g.name + "'";
}

struct walker {
  context& cx;
  tree_spec& tree;
  size_t depth = 0; ///< of the group being walked; the root is 0

  void read_group_key(const entry& e, group_spec& g) {
    const auto& v = *e.value;
    g.key_where.emplace_back(std::string{e.key}, cx.pos(v.source()));
    if (e.key == "strategy") {
      auto s = get_string(cx, v, "strategy");
      if (!s) return;
      static const std::vector<std::string_view> names = {"one_for_one", "one_for_all",
                                                          "rest_for_one"};
      if (*s == "one_for_one")
        g.strategy = strategy_kind::one_for_one;
      else if (*s == "one_for_all")
        g.strategy = strategy_kind::one_for_all;
      else if (*s == "rest_for_one")
        g.strategy = strategy_kind::rest_for_one;
      else
        cx.error(v, "'strategy' must be \"one_for_one\", \"one_for_all\" or \"rest_for_one\", got '"
                      + *s + "'" + did_you_mean(*s, names));
    } else if (e.key == "intensity") {
      if (auto i = get_integer(cx, v, "intensity", 0, std::numeric_limits<uint32_t>::max()))
        g.intensity = static_cast<uint32_t>(*i);
    } else if (e.key == "period") {
      auto d = get_duration(cx, v, "period", millis{1000});
      if (!d) return;
      if (d->count() % 1000 != 0)
        cx.error(v, "'period' must be a whole number of seconds, got " + format_duration(*d));
      else
        g.period = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
  }

  void read_metrics(const entry& e) {
    auto t = e.value->as_table();
    if (!t) {
      cx.error(*e.value, "'metrics' must be a table ([metrics]), got " + std::string{type_name(*e.value)});
      return;
    }
    tree.metrics.enabled = true;
    static const std::vector<std::string_view> keys = {"listen", "enabled"};
    for (const auto& m : in_file_order(*t)) {
      if (m.key == "listen") {
        if (auto s = get_string(cx, *m.value, "listen")) {
          tree.metrics.listen = *s;
          tree.metrics.where = cx.pos(m.value->source());
        }
      } else if (m.key == "enabled") {
        if (auto b = get_bool(cx, *m.value, "enabled")) tree.metrics.enabled = *b;
      } else {
        cx.error(m.key_source(), "unknown key '" + std::string{m.key} + "' in [metrics]"
                                   + did_you_mean(m.key, keys));
      }
    }
  }

  /// `[web]` at top level is the dashboard's table unless it has an app's
  /// key ('command', 'cwd', ...; `listen` is both the dashboard's and an
  /// app's, so it decides nothing) or child tables: then it is an app or
  /// group named web.
  static bool is_web_table(const entry& e) {
    auto t = e.value->as_table();
    if (e.key != "web" || !t || has_subtables(*t)) return false;
    for (auto&& [k, v] : *t)
      if (is_app_key(k.str()) && k.str() != "listen") return false;
    return true;
  }

  void read_web(const entry& e) {
    tree.web.enabled = true;
    tree.web.where = cx.pos(e.value->source());
    static const std::vector<std::string_view> keys = {"listen", "token_file", "read_only",
                                                       "enabled"};
    for (const auto& m : in_file_order(*e.value->as_table())) {
      if (m.key == "listen") {
        if (auto s = get_string(cx, *m.value, "listen")) {
          tree.web.listen = *s;
          tree.web.where = cx.pos(m.value->source());
        }
      } else if (m.key == "token_file") {
        if (auto s = get_string(cx, *m.value, "token_file"))
          tree.web.token_file = s->empty() ? *s : absolute_path(cx.base_dir, *s);
      } else if (m.key == "read_only") {
        if (auto b = get_bool(cx, *m.value, "read_only")) tree.web.read_only = *b;
      } else if (m.key == "enabled") {
        if (auto b = get_bool(cx, *m.value, "enabled")) tree.web.enabled = *b;
      } else {
        cx.error(m.key_source(), "unknown key '" + std::string{m.key} + "' in [web] (the "
                                   "dashboard; an app named web needs 'command')"
                                   + did_you_mean(m.key, keys));
      }
    }
  }

  void walk_group(const toml::table& t, group_spec& g) {
    bool root = g.name.empty();
    bool children = false;
    std::vector<entry> app_like;
    for (const auto& e : in_file_order(t)) {
      if (root && e.key == "metrics") {
        read_metrics(e);
        continue;
      }
      if (root && is_web_table(e)) {
        read_web(e);
        continue;
      }
      auto sub = e.value->as_table();
      if (sub && (e.key == "env" || e.key == "health_check" || is_env_overlay_key(e.key))
          && !has_command(*sub)
          && !has_subtables(*sub)) {
        app_like.push_back(e);
        continue;
      }
      if (sub) {
        children = true;
        auto path = root ? std::string{e.key} : g.name + "." + std::string{e.key};
        node_spec child;
        if (has_command(*sub)) {
          child.type = node_spec::kind::app;
          child.app.name = path;
          child.app.where = cx.pos(sub->source());
          child.app.key_where.emplace_back("name", cx.pos(e.key_source()));
          read_app(cx, *sub, child.app);
        } else if (depth == max_group_depth) {
          // Not one level further: a file nested 10,000 deep would exhaust the stack.
          cx.error(e.key_source(), too_deep_message(path, depth + 1));
          continue;
        } else {
          child.type = node_spec::kind::group;
          child.group.name = path;
          child.group.where = cx.pos(sub->source());
          child.group.key_where.emplace_back("name", cx.pos(e.key_source()));
          ++depth;
          walk_group(*sub, child.group);
          --depth;
        }
        g.children.push_back(std::move(child));
      } else if (is_array_of_tables(*e.value)) {
        children = true;
        cx.error(e.key_source(), "'" + std::string{e.key} + "' is an array of tables ([["
                                   + std::string{e.key}
                                   + "]]): each app or group is a single table, e.g. ["
                                   + std::string{e.key} + "]");
      } else if (is_group_key(e.key)) {
        read_group_key(e, g);
      } else if (is_app_key(e.key) || is_env_overlay_key(e.key)) {
        app_like.push_back(e);
      } else {
        std::vector<std::string_view> candidates = group_keys();
        candidates.insert(candidates.end(), app_keys().begin(), app_keys().end());
        cx.error(e.key_source(), "unknown key '" + std::string{e.key} + "' " + describe(g)
                                   + did_you_mean(e.key, candidates));
      }
    }
    if (!app_like.empty() && !children && !root) {
      cx.error(t.source(), "app '" + g.name + "' has no 'command' (or 'args')");
    } else {
      for (const auto& e : app_like) {
        auto where = root ? std::string{"at top level: put it in an app's table, e.g. [myapp]"}
                          : "in group '" + g.name + "': set it in each app (groups pass nothing on)";
        cx.error(e.key_source(), "'" + std::string{e.key} + "' is an app setting, not allowed "
                                   + where);
      }
    }
    if (root && !children)
      cx.errors.push_back(diagnostic{source_pos{cx.file, 0, 0},
                                     "no apps defined (an app is a table with 'command', e.g. "
                                     "[web] command = \"node server.js\")"});
    else if (!root && !children && app_like.empty())
      cx.error(t.source(), "'" + g.name + "' has no 'command' (or 'args') and no child tables");
  }
};

/// `--env NAME` with no app defining env_NAME: a typo, or the wrong file.
void check_env_selected(context& cx) {
  if (cx.env.empty() || std::binary_search(cx.envs.begin(), cx.envs.end(), cx.env)) return;
  std::string defined;
  for (const auto& e : cx.envs) defined += (defined.empty() ? "" : ", ") + e;
  cx.errors.push_back(diagnostic{
    source_pos{cx.file, 0, 0},
    "no app defines env_" + cx.env + "; the file defines: "
      + (defined.empty() ? std::string{"none (an environment is an app's [APP.env_NAME] table)"}
                         : defined)});
}

load_result load_text(std::string_view text, const std::string& display_name,
                      const std::string& tree_file, const std::string& base_dir,
                      const load_options& options) {
  load_result result;
  context cx;
  cx.file = display_name;
  cx.env = options.env;
  try {
    auto base = os::absolute(base_dir.empty() ? "." : base_dir);
    cx.base_dir = absolute_path(base.empty() ? "/" : base, ".");
    toml::table doc;
    try {
      doc = toml::parse(text, std::string_view{display_name});
    } catch (const toml::parse_error& e) {
      cx.error(e.source(), std::string{e.description()});
      result.errors = std::move(cx.errors);
      return result;
    }
    tree_spec tree;
    tree.file = tree_file;
    tree.root.where = source_pos{display_name, 1, 1};
    walker w{cx, tree};
    w.walk_group(doc, tree.root);
    check_env_selected(cx);
    for (auto& d : validate(tree))
      if (std::find(cx.refused.begin(), cx.refused.end(), d.where) == cx.refused.end())
        cx.errors.push_back(std::move(d));
    if (cx.errors.empty()) result.tree = std::move(tree);
  } catch (const std::exception& e) {
    cx.errors.push_back(diagnostic{source_pos{display_name, 0, 0},
                                   std::string{"internal error: "} + e.what()});
  } catch (...) {
    cx.errors.push_back(diagnostic{source_pos{display_name, 0, 0}, "internal error"});
  }
  std::stable_sort(cx.errors.begin(), cx.errors.end(), [](const diagnostic& a, const diagnostic& b) {
    return a.where.line != b.where.line ? a.where.line < b.where.line : a.where.col < b.where.col;
  });
  result.errors = std::move(cx.errors);
  if (!result.errors.empty()) result.tree.reset();
  return result;
}

} // namespace

load_result load_string(std::string_view text, const std::string& file_name,
                        const std::string& base_dir, const load_options& options) {
  return load_text(text, file_name, file_name, base_dir, options);
}

load_result load_file(const std::string& path, const load_options& options) {
  try {
    std::string error;
    auto text = read_whole_file(path, error);
    if (!text) {
      load_result r;
      r.errors.push_back(diagnostic{source_pos{path, 0, 0}, "cannot read: " + error});
      return r;
    }
    auto abs = os::absolute(path);
    if (abs.empty()) abs = path; // no working directory: as given
    auto slash = abs.rfind('/');
    auto dir = slash == std::string::npos ? std::string{"."}
               : slash == 0             ? std::string{"/"}
                                        : abs.substr(0, slash);
    return load_text(*text, path, abs, dir, options);
  } catch (const std::exception& e) {
    load_result r;
    r.errors.push_back(diagnostic{source_pos{path, 0, 0}, std::string{"internal error: "} + e.what()});
    return r;
  }
}

} // namespace arbor::config
