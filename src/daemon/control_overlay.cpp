#include "control_overlay.hpp"

#include <algorithm>

#include "config/fd_budget.hpp"
#include "config/overlay.hpp"
#include "control_json.hpp"
#include "os/fd_limit.hpp"

namespace arbor::detail::control {

namespace {

using nlohmann::json;

config::started_app started_app_of(const json& args) {
  config::started_app app;
  if (!args.contains("name") || !args["name"].is_string())
    throw bad_argument("'name' must be a string");
  app.name = args["name"].get<std::string>();
  if (!args.contains("args") || !args["args"].is_array() || args["args"].empty())
    throw bad_argument("'args' must be the command's words, at least one");
  for (auto& w : args["args"]) {
    if (!w.is_string()) throw bad_argument("'args' must be an array of strings");
    app.args.push_back(w.get<std::string>());
  }
  if (args.contains("instances")) {
    if (!args["instances"].is_number_integer()) throw bad_argument("'instances' must be an integer");
    app.instances = args["instances"].get<int64_t>();
  }
  app.restart = args.value("restart", std::string{});
  app.cwd = args.value("cwd", std::string{});
  app.env = args.value("env", std::vector<std::string>{});
  return app;
}

/// The top-level node named `name` of `root`; nullptr if none.
const node_spec* root_child(const group_spec& root, const std::string& name) {
  auto it = std::find_if(root.children.begin(), root.children.end(),
                         [&](const node_spec& n) { return n.name() == name; });
  return it == root.children.end() ? nullptr : &*it;
}

/// What a job off the actor found: the overlay's new text written and the
/// tree to apply, or why not (`code` "" when all is well).
struct overlay_change {
  std::string old_text;
  std::optional<tree_spec> next;
  std::string code, message;
  json diagnostics = json::array();
};

/// Applies `ch->next` to the tree; on success it is the applied spec. If the
/// tree refuses, the overlay goes back to what it was.
void apply_change(call c, std::shared_ptr<overlay_change> ch, json result) {
  if (!ch->code.empty()) return c.fail(ch->code, ch->message, json{{"diagnostics", ch->diagnostics}});
  auto refused = config::fd_refusal(config::descriptors_needed(ch->next->root),
                                    os::fd_soft_limit(), "the daemon's limit");
  auto& s = c.self->state;
  std::string error;
  if (!refused.empty()) {
    config::write_overlay(s.opts.home, ch->old_text, error);
    return c.fail("too_many_descriptors", refused + "; nothing changed");
  }
  auto root = std::make_shared<const group_spec>(ch->next->root);
  c.self->request(s.tree->root(), caf::infinite, apply_atom::value, root)
    .then(
      [c, ch, result](apply_report& r) {
        c.self->state.current = std::move(*ch->next);
        auto j = report_json(r);
        j.update(result);
        c.ok(j);
      },
      [c, ch](caf::error& e) {
        std::string error;
        config::write_overlay(c.self->state.opts.home, ch->old_text, error);
        c.fail(e);
      });
}

/// The overlay with `app` added, loaded, merged into `current` and written
/// (off the actor: disk).
void add_job(overlay_change& ch, const config::started_app& app, tree_spec current,
             const std::string& home) {
  std::string text, error;
  if (!config::read_overlay(home, text, error)) {
    ch.code = "overlay_unreadable";
    ch.message = error + "; nothing changed";
    return;
  }
  ch.old_text = text;
  auto next = config::overlay_with(text, app, error);
  auto loaded = error.empty() ? config::load_overlay(next, home) : config::load_result{};
  if (error.empty() && loaded.ok()) {
    auto* added = root_child(loaded.tree->root, app.name);
    if (!added) error = "'" + app.name + "' is not an app name arbor accepts";
    tree_spec one; // just the new app: the others are in `current` already
    if (added) one.root.children.push_back(*added);
    if (added) loaded = config::merge_overlay(std::move(current), one);
  }
  if (!error.empty() || !loaded.ok()) {
    ch.code = "config_invalid";
    ch.message = (error.empty() ? "'" + app.name + "' is not valid" : error) + "; nothing changed";
    for (auto& d : loaded.errors) ch.diagnostics.push_back(d.to_string());
    return;
  }
  if (!config::write_overlay(home, next, error)) {
    ch.code = "overlay_unwritable";
    ch.message = error + "; nothing changed";
    return;
  }
  ch.next = std::move(loaded.tree);
}

/// The overlay without `name`, written; `current` without it is next.
void delete_job(overlay_change& ch, const std::string& name, tree_spec current,
                const std::string& home) {
  std::string text, error;
  if (!config::read_overlay(home, text, error)
      || !config::write_overlay(home, config::overlay_without(text, name), error)) {
    ch.code = "overlay_unwritable";
    ch.message = error + "; nothing changed";
    return;
  }
  ch.old_text = text;
  auto& kids = current.root.children;
  kids.erase(std::remove_if(kids.begin(), kids.end(),
                            [&](const node_spec& n) { return n.name() == name; }),
             kids.end());
  ch.next = std::move(current);
}

/// "'web' is in the tree (from FILE)" / "(added by `arbor start`)".
std::string origin(const node_spec& n, const control_state& s) {
  if (config::from_overlay(config::where_of(n), s.opts.home)) return "added by `arbor start`";
  return "from " + (s.opts.config_file.empty() ? std::string{"the config"} : s.opts.config_file);
}

} // namespace

void do_add(call c, const json& args) {
  auto app = started_app_of(args);
  auto& s = c.self->state;
  if (auto* taken = root_child(s.current.root, app.name))
    return c.fail("name_taken", "'" + app.name + "' is already in the tree (" + origin(*taken, s)
                                  + "); --name NAME gives another name; nothing changed");
  auto ch = std::make_shared<overlay_change>();
  off_thread(c, [ch, app, current = s.current, home = s.opts.home] {
               add_job(*ch, app, current, home);
             },
             [c, ch, name = app.name] { apply_change(c, ch, json{{"app", name}}); });
}

void do_delete(call c, const json& args) {
  if (!args.contains("name") || !args["name"].is_string())
    throw bad_argument("'name' must be a string");
  auto name = args["name"].get<std::string>();
  auto& s = c.self->state;
  auto* node = root_child(s.current.root, name);
  if (!node && !config::find_app(s.current.root, name) && !config::find_group(s.current.root, name))
    return c.fail("not_found", "'" + name + "' is not in the tree");
  if (!node || !config::from_overlay(config::where_of(*node), s.opts.home))
    return c.fail("not_started",
                  "'" + name + "' is " + (node ? origin(*node, s) : "from the config file")
                    + ": remove it there and run `arbor apply`; nothing changed");
  auto ch = std::make_shared<overlay_change>();
  off_thread(c, [ch, name, current = s.current, home = s.opts.home] {
               delete_job(*ch, name, current, home);
             },
             [c, ch, name] { apply_change(c, ch, json{{"deleted", name}}); });
}

} // namespace arbor::detail::control
