#include "control_actor.hpp"

#include <unistd.h>

#include "config/fd_budget.hpp"
#include "config/loader.hpp"
#include "config/overlay.hpp"
#include "config/ready_rule.hpp"
#include "config/suggest.hpp"
#include "config/targets.hpp"
#include "config/validate.hpp"
#include "config/units.hpp"
#include "control_json.hpp"
#include "control_overlay.hpp"
#include "daemon/daemon_args.hpp"
#include "control_targets.hpp"
#include "event_bus.hpp"
#include "os/fd_limit.hpp"
#include "os/heap.hpp"

namespace arbor::detail {

namespace control {

// Something happened (a request, a reply, an event): once nothing has for
// quiet_before_trim, the heap gives what the burst freed back to the kernel
// (os/heap.hpp). One timer at a time; CAF 0.17 cannot cancel one, so a timer
// that finds newer activity re-arms itself for the rest of the quiet time.
void note_busy(self_ptr self) {
  auto& s = self->state;
  s.last_busy = std::chrono::steady_clock::now();
  if (s.trim_armed) return;
  s.trim_armed = true;
  self->delayed_send(self, quiet_before_trim, trim_atom::value);
}

void off_thread(call c, std::function<void()> job, std::function<void()> then) {
  // The unused int: CAF 0.17 dereferences a null shared_ptr<std::tuple<>>
  // when a function actor is spawned without arguments (UBSan: "reference
  // binding to null pointer" in init_fun_factory); one argument avoids it.
  auto worker = c.self->spawn<caf::detached>(
    [](caf::event_based_actor* w, int) -> caf::behavior {
      return {[w](io_job& j) {
        j.run();
        w->quit();
        return true;
      }};
    },
    0);
  c.self->request(worker, caf::infinite, io_job{std::move(job)})
    .then([then](bool) { then(); }, [c](caf::error& e) { c.fail(e); });
}

} // namespace control

namespace {

using nlohmann::json;
using namespace control;

void on_trim(self_ptr self) {
  auto& s = self->state;
  auto quiet = std::chrono::steady_clock::now() - s.last_busy;
  if (quiet < quiet_before_trim) {
    self->delayed_send(self, quiet_before_trim - quiet, trim_atom::value);
    return;
  }
  s.trim_armed = false;
  os::release_free_heap();
}

std::vector<std::string> names_arg(const json& args, bool required) {
  if (!args.contains("names")) {
    if (required) throw bad_argument("missing 'names': say which apps or groups (or 'all')");
    return {};
  }
  const auto& v = args["names"];
  if (!v.is_array()) throw bad_argument("'names' must be an array of strings");
  std::vector<std::string> out;
  for (auto& x : v) {
    if (!x.is_string()) throw bad_argument("'names' must be an array of strings");
    out.push_back(x.get<std::string>());
  }
  if (required && out.empty()) throw bad_argument("'names' is empty: say which apps or groups");
  return out;
}

bool bool_arg(const json& args, const char* key) {
  if (!args.contains(key)) return false;
  if (!args[key].is_boolean()) throw bad_argument(std::string{"'"} + key + "' must be true or false");
  return args[key].get<bool>();
}

std::string string_arg(const json& args, const char* key) {
  if (!args.contains(key) || !args[key].is_string())
    throw bad_argument(std::string{"'"} + key + "' must be a string");
  return args[key].get<std::string>();
}

/// "from": "arbor start" on an instance of an app `arbor start -- CMD` added.
json marked(const control_state& s, json inst) {
  auto* app = config::find_app(s.current.root, inst.value("app", std::string{}));
  if (app && config::from_overlay(app->where, s.opts.home)) inst["from"] = "arbor start";
  return inst;
}

void do_status(call c, const json& args) {
  resolve(c, names_arg(args, false), [c](targets& ts) {
    with_status(c, [c, ts](node_status& n) {
      std::vector<json> all;
      collect_instances(n, all);
      json out = json::array();
      for (auto& x : all)
        if (selected(x, ts)) out.push_back(marked(c.self->state, std::move(x)));
      c.ok(json{{"instances", out}});
    });
  });
}

/// `show`: the applied spec's keys, with the tree's running instance count.
void show_node(call c, const config::target& t) {
  with_status(c, [c, t](node_status& n) {
    auto& root = c.self->state.current.root;
    auto* node = find_node(n, t.path);
    if (!node) return c.fail("not_found", "'" + t.address() + "' is not running in the tree");
    json spec = t.is_group ? spec_json(*config::find_group(root, t.path))
                           : spec_json(*config::find_app(root, t.path));
    if (!t.is_group) spec["instances"] = node->instances.size(); // the running count
    json shown = node_json(*node, root);
    if (t.instance) { // "web.api#1": that instance alone
      json one = json::array();
      for (auto& x : shown["instances"])
        if (x["index"] == *t.instance) one.push_back(x);
      shown["instances"] = one;
    }
    json out{{"node", shown}, {"spec", spec}};
    auto& where = t.is_group ? config::find_group(root, t.path)->where
                             : config::find_app(root, t.path)->where;
    out["from"] = config::from_overlay(where, c.self->state.opts.home)
                    ? std::string{"arbor start"}
                    : c.self->state.opts.config_file;
    if (!t.is_group) {
      out["ready_when"] = config::ready_rule(*config::find_app(root, t.path));
      auto ls = c.self->state.tree->logs_of(t.path);
      auto [o, e] = c.self->state.tree->log_files(t.path);
      out["logs"] = json{{"out", o},
                         {"err", e},
                         {"bytes_written", ls.bytes_written},
                         {"bytes_dropped", ls.bytes_dropped},
                         {"rotations", ls.rotations},
                         {"last_error", ls.last_error}};
    }
    c.ok(out);
  });
}

/// Whether the daemon's descriptor limit holds `root`; if not, fails `c`.
bool fits_fd_limit(call c, const group_spec& root) {
  auto refused = config::fd_refusal(config::descriptors_needed(root), os::fd_soft_limit(),
                                    "the daemon's limit");
  if (refused.empty()) return true;
  c.fail("too_many_descriptors", refused + "; nothing changed");
  return false;
}

void do_show(call c, const json& args) {
  resolve(c, {string_arg(args, "name")}, [c](targets& ts) { show_node(c, ts.front()); });
}

void do_scale(call c, const json& args) {
  auto name = string_arg(args, "name");
  if (!args.contains("instances") || !args["instances"].is_number_integer()
      || args["instances"].get<int64_t>() < 0 || args["instances"].get<int64_t>() > config::max_instances)
    throw bad_argument("'instances' must be an integer from 0 to 10000");
  auto n = args["instances"].get<uint32_t>();
  resolve(c, {name}, [c, n](targets& ts) {
    auto t = ts.front();
    if (t.is_group || t.instance)
      return c.fail("invalid_argument", "scale takes an app, not '" + t.address() + "'");
    auto scaled = c.self->state.current.root;
    if (auto* app = config::find_app(scaled, t.path)) app->instances = n;
    if (!fits_fd_limit(c, scaled)) return;
    c.self->request(c.self->state.tree->root(), caf::infinite, scale_atom::value, t.path, n)
      .then(
        [c, t, n](uint32_t before) {
          // The applied spec follows: the next budget counts these instances.
          if (auto* app = config::find_app(c.self->state.current.root, t.path)) app->instances = n;
          c.ok(json{{"app", t.path}, {"from", before}, {"to", n}});
        },
        [c](caf::error& e) { c.fail(e); });
  });
}

/// The environment `apply` selects: `env` when given ("" = none); else the
/// running one for the running file (a daemon deployed with --env production
/// stays so through `arbor apply`), none for another file.
std::string env_to_apply(const control_state& s, const json& args, const std::string& file) {
  if (args.contains("env")) return string_arg(args, "env");
  return file == s.opts.config_file ? s.opts.env : std::string{};
}

void do_apply(call c, const json& args) {
  auto& s = c.self->state;
  auto file = args.contains("file") ? string_arg(args, "file") : s.opts.config_file;
  if (file.empty()) throw bad_argument("no config file: pass 'file'");
  const bool dry_run = bool_arg(args, "dry_run");
  auto env = env_to_apply(s, args, file);
  const bool kept = !env.empty() && !args.contains("env");
  auto res = std::make_shared<config::load_result>();
  off_thread(c, [res, file, env, home = s.opts.home] { *res = config::load_with_overlay(file, {env}, home); },
             [c, res, file, env, kept, dry_run] {
    if (!res->ok()) {
      json diags = json::array();
      for (auto& d : res->errors) diags.push_back(d.to_string());
      return c.fail("config_invalid",
                    std::to_string(res->errors.size()) + " error"
                      + (res->errors.size() == 1 ? "" : "s") + " in " + file
                      + (kept ? " with the running environment '" + env
                                  + "' (--env NAME selects another, --env '' none)"
                              : std::string{})
                      + "; nothing changed",
                    json{{"diagnostics", diags}});
    }
    if (!fits_fd_limit(c, res->tree->root)) return;
    auto& s = c.self->state;
    auto plan = plan_json(config::plan_apply(s.current.root, res->tree->root));
    plan["env"] = env;
    if (dry_run) {
      plan["dry_run"] = true;
      plan["file"] = file;
      plan["applied_file"] = s.opts.config_file;
      plan["applied_env"] = s.opts.env;
      return c.ok(plan);
    }
    auto next = std::make_shared<tree_spec>(std::move(*res->tree));
    auto root = std::make_shared<const group_spec>(next->root);
    c.self->request(c.self->state.tree->root(), caf::infinite, apply_atom::value, root)
      .then(
        [c, next, file, env, plan](apply_report& r) {
          auto& s = c.self->state;
          s.current = *next;
          // A daemon the keeper starts again must run what was applied last.
          if (s.opts.keeper_restarts && (file != s.opts.config_file || env != s.opts.env))
            s.tree->set_daemon_command(cli::daemon_command_for(file, env));
          s.opts.config_file = file;
          s.opts.env = env;
          auto j = report_json(r);
          j["changes"] = plan["changes"];
          j["scale"] = plan["scale"];
          j["env"] = env;
          c.ok(j);
        },
        [c](caf::error& e) { c.fail(e); });
  });
}

void do_logs(call c, const json& args, bool flush) {
  resolve(c, names_arg(args, false), [c, flush](targets& ts) {
    auto& s = c.self->state;
    auto apps = ts.empty() ? config::app_paths(s.current.root) : apps_of(s.current.root, ts);
    json out = json::array();
    for (auto& a : apps) {
      if (flush) {
        if (s.tree->flush_logs(a)) out.push_back(a);
        continue;
      }
      auto [o, e] = s.tree->log_files(a);
      if (!o.empty()) out.push_back(json{{"app", a}, {"out", o}, {"err", e}});
    }
    c.ok(flush ? json{{"flushed", out}} : json{{"files", out}});
  });
}

void do_events(call c, const json& args) {
  auto& s = c.self->state;
  bool follow = args.value("follow", false);
  int64_t last = args.value("last", follow ? int64_t{0} : int64_t{100});
  if (last < 0) throw bad_argument("'last' must not be negative");
  auto n = std::min<size_t>(static_cast<size_t>(last), s.recent.size());
  json evs = json::array();
  for (auto i = s.recent.size() - n; i < s.recent.size(); ++i) evs.push_back(event_json(s.recent[i]));
  if (!follow) return c.ok(json{{"events", evs}});
  for (auto& e : evs) s.sink->send(c.conn, proto::encode_item(c.id, e));
  s.followers[c.conn] = c.id;
}

void dispatch(self_ptr self, uint64_t conn, proto::request& req) {
  call c{self, conn, req.id};
  auto& s = self->state;
  const auto& args = req.args;
  const auto& cmd = req.cmd;
  try {
    if (cmd == "ping") {
      c.ok(json{{"version", "0.1.0"},
                {"pid", ::getpid()},
                {"uptime_ms", wall_now_ns() / 1000000 - s.started_ms},
                {"config", s.opts.config_file},
                {"env", s.opts.env},
                {"home", s.opts.home}});
    } else if (cmd == "status") {
      do_status(c, args);
    } else if (cmd == "tree") {
      with_status(c, [c](node_status& n) {
        c.ok(json{{"root", node_json(n, c.self->state.current.root)}});
      });
    } else if (cmd == "show") {
      do_show(c, args);
    } else if (cmd == "start" || cmd == "stop" || cmd == "restart") {
      bool progress = cmd != "start" && args.value("progress", false);
      resolve(c, names_arg(args, true), [c, cmd, progress](targets& ts) {
        if (progress) c.self->state.progress[{c.conn, c.id}] = ts;
        run_targets(c, cmd, ts);
      });
    } else if (cmd == "reload") {
      resolve(c, names_arg(args, true), [c](targets& ts) { reload_targets(c, ts); });
    } else if (cmd == "scale") {
      do_scale(c, args);
    } else if (cmd == "signal") {
      std::string text = args.contains("signal") && args["signal"].is_number_integer()
                           ? std::to_string(args["signal"].get<int>())
                           : string_arg(args, "signal");
      auto sig = config::parse_signal(text);
      if (!sig) return c.fail("invalid_argument", "unknown signal '" + text + "'");
      resolve(c, names_arg(args, true), [c, sig = *sig](targets& ts) { signal_targets(c, sig, ts); });
    } else if (cmd == "apply") {
      do_apply(c, args);
    } else if (cmd == "add") {
      do_add(c, args);
    } else if (cmd == "delete") {
      do_delete(c, args);
    } else if (cmd == "logs" || cmd == "flush") {
      do_logs(c, args, cmd == "flush");
    } else if (cmd == "events") {
      do_events(c, args);
    } else if (cmd == "shutdown") {
      c.ok(json{{"stopping", true}});
      if (s.opts.on_shutdown) s.opts.on_shutdown();
    } else {
      static const std::vector<std::string_view> known{
        "ping", "status", "tree", "show", "start", "stop", "restart", "reload", "scale",
        "signal", "apply", "add", "delete", "logs", "flush", "events", "shutdown"};
      c.fail("unknown_command",
             "unknown command '" + cmd + "'" + config::detail::did_you_mean(cmd, known));
    }
  } catch (const bad_argument& e) {
    c.fail("bad_request", e.what());
  } catch (const json::exception& e) {
    c.fail("bad_request", std::string{"malformed arguments: "} + e.what());
  } catch (const std::exception& e) {
    c.fail("internal", e.what());
  }
}

} // namespace

caf::behavior control_actor(caf::stateful_actor<control_state>* self, supervision_tree* tree,
                            tree_spec current, std::shared_ptr<reply_sink> sink,
                            control_options opts) {
  auto& st = self->state;
  st.tree = tree;
  st.sink = std::move(sink);
  st.current = std::move(current);
  st.opts = std::move(opts);
  st.started_ms = wall_now_ns() / 1000000;
  return {
    [=](control_request& r) {
      if (self->state.sink->is_open(r.conn)) dispatch(self, r.conn, r.req);
    },
    [=](conn_closed& c) {
      auto& s = self->state;
      s.followers.erase(c.conn);
      for (auto it = s.progress.begin(); it != s.progress.end();)
        it = it->first.first == c.conn ? s.progress.erase(it) : std::next(it);
    },
    [=](event& e) {
      auto& s = self->state;
      if (e.supervisor.empty() && e.what == event_kind::gave_up && s.opts.on_root_gave_up)
        s.opts.on_root_gave_up();
      if (!s.progress.empty()) send_progress(self, e);
      if (!s.followers.empty()) {
        auto j = event_json(e);
        for (auto& [conn, id] : s.followers) s.sink->send(conn, proto::encode_item(id, j));
      }
      s.recent.push_back(std::move(e));
      if (s.recent.size() > recent_events) s.recent.pop_front();
      note_busy(self);
    },
    [=](trim_atom) { on_trim(self); },
  };
}

} // namespace arbor::detail
