#include "control_targets.hpp"

#include <algorithm>
#include <memory>

#include "config/units.hpp"
#include "control_json.hpp"
#include "restart_all.hpp"

namespace arbor::detail::control {

using nlohmann::json;

void with_status(call c, std::function<void(node_status&)> then) {
  c.self->request(c.self->state.tree->root(), std::chrono::seconds(10), status_atom::value)
    .then([then](node_status& n) { then(n); }, [c](caf::error& e) { c.fail(e); });
}

namespace {

void count_instances(const node_status& n, config::instance_counts& out) {
  if (!n.is_group) out[n.name] = static_cast<uint32_t>(n.instances.size());
  for (auto& c : n.children) count_instances(c, out);
}

} // namespace

void resolve(call c, std::vector<std::string> names, std::function<void(targets&)> then) {
  auto finish = [c, names, then](const config::instance_counts& running) {
    auto r = config::resolve_targets(c.self->state.current.root, names, running);
    if (!r.ok()) return c.fail(r.error_code, r.error);
    then(r.targets);
  };
  bool numbered = std::any_of(names.begin(), names.end(),
                              [](auto& n) { return n.find('#') != std::string::npos; });
  if (!numbered) return finish({});
  with_status(c, [finish](node_status& n) {
    config::instance_counts running;
    count_instances(n, running);
    finish(running);
  });
}

ids apps_of(const group_spec& root, const targets& ts) {
  ids out;
  auto add = [&](const std::string& a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  for (auto& t : ts) {
    if (!t.is_group) {
      add(t.path);
    } else if (auto* g = config::find_group(root, t.path)) {
      for (auto& a : config::app_paths(*g)) add(a);
    }
  }
  return out;
}

bool selected(const json& inst, const targets& ts) {
  if (ts.empty()) return true;
  auto app = inst["app"].get<std::string>();
  auto id = inst["id"].get<std::string>();
  for (auto& t : ts) {
    if (t.instance ? id == t.address()
                   : (t.is_group ? (t.path.empty() || app.compare(0, t.path.size() + 1, t.path + ".") == 0)
                                 : app == t.path))
      return true;
  }
  return false;
}

namespace {

/// The text of an error the tree made with make_error(code, text).
std::string error_text(const caf::actor_system& sys, const caf::error& e) {
  if (e.context().match_element<std::string>(0)) return e.context().get_as<std::string>(0);
  return sys.render(e);
}

/// Sends `atom` for each address in turn (start/stop/restart/reload),
/// collecting the affected instance ids, then replies. The first error ends
/// it: the rest keep running as they are. `fail_code` "" reports it as an
/// internal error, else under that code with the ids affected so far.
template <class Atom>
void each_target(call c, Atom atom, std::shared_ptr<std::vector<std::string>> addrs, size_t i,
                 std::shared_ptr<ids> acc, std::string fail_code = {}) {
  if (i == addrs->size()) return c.ok(json{{"affected", *acc}});
  c.self->request(c.self->state.tree->root(), caf::infinite, atom, (*addrs)[i], manual())
    .then(
      [=](ids& xs) {
        acc->insert(acc->end(), xs.begin(), xs.end());
        each_target(c, atom, addrs, i + 1, acc, fail_code);
      },
      [=](caf::error& e) {
        if (fail_code.empty()) return c.fail(e);
        c.fail(fail_code, error_text(c.self->system(), e), json{{"affected", *acc}});
      });
}

void signal_each(call c, int sig, std::shared_ptr<std::vector<std::string>> addrs, size_t i,
                 std::shared_ptr<json> acc) {
  if (i == addrs->size()) return c.ok(json{{"signaled", *acc}});
  c.self->request(c.self->state.tree->root(), std::chrono::seconds(10), signal_atom::value, sig,
                  (*addrs)[i])
    .then(
      [=](ids& xs, std::vector<int32_t>& pids) {
        for (size_t k = 0; k < xs.size(); ++k) acc->push_back(json{{"id", xs[k]}, {"pid", pids[k]}});
        signal_each(c, sig, addrs, i + 1, acc);
      },
      [=](caf::error& e) { c.fail(e); });
}

} // namespace

void run_targets(call c, const std::string& cmd, const targets& ts) {
  auto addrs = std::make_shared<std::vector<std::string>>();
  for (auto& t : ts) addrs->push_back(t.address());
  auto acc = std::make_shared<ids>();
  if (cmd == "start") return each_target(c, start_atom::value, addrs, 0, acc);
  if (cmd == "stop") return each_target(c, stop_atom::value, addrs, 0, acc);
  if (std::find(addrs->begin(), addrs->end(), "") == addrs->end())
    return each_target(c, restart_atom::value, addrs, 0, acc);
  // `restart all` (the root's address "") leaves finished one-shots alone
  // (restart_all.hpp); named apps restart whatever their state.
  with_status(c, [c, addrs, acc](node_status& n) {
    auto all = restart_all_addresses(c.self->state.current.root, n);
    auto at = addrs->erase(std::find(addrs->begin(), addrs->end(), ""));
    addrs->insert(at, all.begin(), all.end());
    each_target(c, restart_atom::value, addrs, 0, acc);
  });
}

void send_progress(self_ptr self, const event& e) {
  if (e.what != event_kind::stopping && e.what != event_kind::killed) return;
  auto& s = self->state;
  const json inst{{"app", e.supervisor}, {"id", e.offender}};
  json item;
  for (auto& [request, ts] : s.progress) {
    if (!selected(inst, ts)) continue;
    if (item.is_null()) {
      item = event_json(e);
      if (auto* app = config::find_app(s.current.root, e.supervisor)) {
        item["kill_signal"] = config::signal_name(app->kill_signal);
        item["kill_timeout_ms"] = app->kill_timeout.count();
      }
    }
    s.sink->send(request.first, proto::encode_item(request.second, item));
  }
}

void reload_targets(call c, const targets& ts) {
  auto addrs = std::make_shared<std::vector<std::string>>();
  for (auto& t : ts)
    if (t.instance) addrs->push_back(t.address());
  for (auto& a : apps_of(c.self->state.current.root, ts)) {
    bool named = false;
    for (auto& t : ts) named = named || (!t.is_group && t.instance && t.path == a);
    if (!named) addrs->push_back(a);
  }
  each_target(c, reload_atom::value, addrs, 0, std::make_shared<ids>(), "reload_aborted");
}

void signal_targets(call c, int sig, const targets& ts) {
  auto addrs = std::make_shared<std::vector<std::string>>();
  for (auto& t : ts)
    if (!t.is_group) addrs->push_back(t.address());
  for (auto& a : apps_of(c.self->state.current.root, ts))
    if (std::none_of(ts.begin(), ts.end(), [&](auto& t) { return !t.is_group && t.path == a; }))
      addrs->push_back(a);
  signal_each(c, sig, addrs, 0, std::make_shared<json>(json::array()));
}

} // namespace arbor::detail::control
