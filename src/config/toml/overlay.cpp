// The overlay of `arbor start -- CMD` (config/overlay.hpp): its TOML, read
// and edited with toml++, and merged into the config file's tree.

#include "config/overlay.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/detail.hpp"
#include "config/validate.hpp"
#include "os/file_io.hpp"

namespace arbor::config {

namespace {

constexpr const char* overlay_header =
  "# Apps added by `arbor start -- CMD` (arbor.toml's schema), kept by the daemon:\n"
  "# `arbor delete NAME` removes one. The tree runs the config file's apps, then these.\n\n";

/// `text` parsed; nullopt with `error` if it is not TOML.
std::optional<toml::table> parse(const std::string& text, std::string& error) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    error = "the overlay does not parse: " + std::string{e.description()};
    return std::nullopt;
  }
}

std::string serialize(const toml::table& doc) {
  if (doc.empty()) return {};
  std::ostringstream out;
  out << overlay_header << doc << "\n";
  return out.str();
}

toml::table app_table(const started_app& app, std::string& error) {
  toml::table t;
  toml::array args;
  for (const auto& w : app.args) args.push_back(w);
  t.insert("args", std::move(args));
  if (app.instances != 1) t.insert("instances", app.instances);
  if (!app.restart.empty()) t.insert("restart", app.restart);
  if (!app.cwd.empty()) t.insert("cwd", app.cwd);
  toml::table env;
  for (const auto& kv : app.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--env '" + kv + "' is not NAME=value";
      return {};
    }
    env.insert_or_assign(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (!env.empty()) t.insert("env", std::move(env));
  return t;
}

} // namespace

std::string overlay_path(const std::string& home) {
  return home + "/overlay.toml";
}

bool read_overlay(const std::string& home, std::string& text, std::string& error) {
  const auto path = overlay_path(home);
  text.clear();
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return true; // nothing started
  auto got = detail::read_whole_file(path, error, O_NOFOLLOW);
  if (!got) {
    error = "cannot read " + path + ": " + error;
    return false;
  }
  text = std::move(*got);
  return true;
}

bool write_overlay(const std::string& home, const std::string& text, std::string& error) {
  const auto path = overlay_path(home);
  if (text.empty()) {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) return true;
    error = os::errno_text("remove", path, errno);
    return false;
  }
  return os::write_file_atomic(path, text, error, true);
}

std::string overlay_with(const std::string& text, const started_app& app, std::string& error) {
  auto doc = parse(text, error);
  if (!doc) return {};
  auto t = app_table(app, error);
  if (!error.empty()) return {};
  doc->insert_or_assign(app.name, std::move(t));
  return serialize(*doc);
}

std::string overlay_without(const std::string& text, const std::string& name) {
  std::string error;
  auto doc = parse(text, error);
  if (!doc || !doc->contains(name)) return text;
  doc->erase(name);
  return serialize(*doc);
}

std::vector<std::string> overlay_names(const std::string& text) {
  std::string error;
  std::vector<std::string> out;
  if (auto doc = parse(text, error))
    for (auto&& [k, v] : *doc)
      if (v.is_table()) out.emplace_back(k.str());
  return out;
}

load_result load_overlay(const std::string& text, const std::string& home) {
  return load_string(text, overlay_path(home), home);
}

load_result merge_overlay(tree_spec base, const tree_spec& overlay) {
  load_result r;
  for (const auto& child : overlay.root.children) {
    const auto name = child.name();
    const bool taken = std::any_of(base.root.children.begin(), base.root.children.end(),
                                   [&](const node_spec& c) { return c.name() == name; });
    if (taken) {
      r.errors.push_back(diagnostic{
        where_of(child),
        "'" + name + "' is defined by " + (base.file.empty() ? "the config" : base.file)
          + " and by `arbor start` too: `arbor delete " + name
          + "` removes the started one, or rename it in the file"});
      continue;
    }
    base.root.children.push_back(child);
  }
  if (!r.errors.empty()) return r;
  r.errors = validate(base);
  if (r.errors.empty()) r.tree = std::move(base);
  return r;
}

load_result load_with_overlay(const std::string& file, const load_options& options,
                              const std::string& home) {
  load_result base;
  if (file.empty())
    base.tree = tree_spec{};
  else
    base = load_file(file, options);
  if (!base.ok()) return base;
  std::string text, error;
  if (!read_overlay(home, text, error)) {
    load_result r;
    r.errors.push_back(diagnostic{source_pos{overlay_path(home), 0, 0}, error});
    return r;
  }
  if (text.empty()) return base;
  auto overlay = load_overlay(text, home);
  if (!overlay.ok()) return overlay;
  return merge_overlay(std::move(*base.tree), *overlay.tree);
}

bool from_overlay(const source_pos& where, const std::string& home) {
  return where.file == overlay_path(home);
}

const source_pos& where_of(const node_spec& n) {
  return n.type == node_spec::kind::app ? n.app.where : n.group.where;
}

} // namespace arbor::config
