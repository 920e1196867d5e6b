// depends_on: name resolution (full path, or an app's last segment) and
// cycle detection over apps (a group stands for every app in it).

#include <algorithm>
#include <map>
#include <set>

#include "config/suggest.hpp"
#include "config/validate.hpp"

namespace arbor::config::detail {

namespace {

struct index {
  std::vector<app_spec*> apps;                           // file order
  std::map<std::string, app_spec*> app_by_name;
  std::map<std::string, std::vector<std::string>> group_apps; // group → its apps
  std::map<std::string, std::vector<std::string>> by_last;    // last segment → apps

  std::vector<std::string> collect(group_spec& g) {
    std::vector<std::string> all;
    for (auto& c : g.children) {
      if (c.type == node_spec::kind::app) {
        apps.push_back(&c.app);
        app_by_name[c.app.name] = &c.app;
        auto dot = c.app.name.rfind('.');
        by_last[dot == std::string::npos ? c.app.name : c.app.name.substr(dot + 1)].push_back(
          c.app.name);
        all.push_back(c.app.name);
      } else {
        auto sub = collect(c.group);
        group_apps[c.group.name] = sub;
        all.insert(all.end(), sub.begin(), sub.end());
      }
    }
    return all;
  }
};

bool contains_app(const std::string& group, const std::string& app) {
  return app.size() > group.size() && app.compare(0, group.size(), group) == 0
         && app[group.size()] == '.';
}

/// Tarjan's strongly connected components; calls `found` for each component
/// that holds a cycle, with its members in discovery order.
struct scc_finder {
  const std::vector<std::vector<size_t>>& edges;
  std::vector<int> index_of, low;
  std::vector<bool> on_stack;
  std::vector<size_t> stack;
  std::vector<std::vector<size_t>> cyclic;
  int counter = 0;

  explicit scc_finder(const std::vector<std::vector<size_t>>& e)
    : edges(e), index_of(e.size(), -1), low(e.size(), 0), on_stack(e.size(), false) {}

  void visit(size_t v) {
    index_of[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    for (auto w : edges[v]) {
      if (index_of[w] < 0) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], index_of[w]);
      }
    }
    if (low[v] != index_of[v]) return;
    std::vector<size_t> component;
    for (;;) {
      auto w = stack.back();
      stack.pop_back();
      on_stack[w] = false;
      component.push_back(w);
      if (w == v) break;
    }
    bool self_loop = std::find(edges[v].begin(), edges[v].end(), v) != edges[v].end();
    if (component.size() > 1 || self_loop) cyclic.push_back(std::move(component));
  }
};

/// Shortest path start → ... → start inside `members`.
std::vector<size_t> cycle_through(size_t start, const std::set<size_t>& members,
                                  const std::vector<std::vector<size_t>>& edges) {
  std::map<size_t, size_t> parent;
  std::vector<size_t> queue{start};
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    auto v = queue[qi];
    for (auto w : edges[v]) {
      if (!members.count(w)) continue;
      if (w == start) {
        std::vector<size_t> path{start};
        for (auto x = v; x != start; x = parent[x]) path.push_back(x);
        path.push_back(start);
        std::reverse(path.begin() + 1, path.end() - 1);
        return path;
      }
      if (parent.count(w) || w == start) continue;
      parent[w] = v;
      queue.push_back(w);
    }
  }
  return {start, start};
}

} // namespace

void resolve_dependencies(group_spec& root, std::vector<diagnostic>& errors) {
  index idx;
  idx.collect(root);
  std::vector<std::string_view> candidates;
  for (auto& [name, apps] : idx.group_apps) candidates.push_back(name);
  for (auto* a : idx.apps) candidates.push_back(a->name);
  for (auto& [last, apps] : idx.by_last) candidates.push_back(last);

  for (auto* a : idx.apps) {
    auto& app = *a;
    auto written = std::move(app.depends_on);
    app.depends_on.clear();
    for (size_t i = 0; i < written.size(); ++i) {
      const auto& ref = written[i];
      auto key = "depends_on[" + std::to_string(i) + "]";
      auto at = app.where_of(key);
      std::string resolved;
      if (ref.empty()) {
        errors.push_back({at, "'" + key + "' is empty"});
        continue;
      } else if (idx.app_by_name.count(ref) || idx.group_apps.count(ref)) {
        resolved = ref;
      } else if (auto last = idx.by_last.find(ref); last != idx.by_last.end()) {
        if (last->second.size() > 1) {
          std::string list;
          for (const auto& n : last->second) list += (list.empty() ? "" : ", ") + n;
          errors.push_back({at, "depends_on '" + ref + "' of app '" + app.name
                                  + "' is ambiguous: " + list + " (write the full name)"});
          continue;
        }
        resolved = last->second.front();
      } else {
        errors.push_back({at, "depends_on of app '" + app.name + "' names unknown app or group '"
                                + ref + "'" + did_you_mean(ref, candidates)});
        continue;
      }
      if (idx.group_apps.count(resolved) && contains_app(resolved, app.name)) {
        errors.push_back(
          {at, "app '" + app.name + "' depends on group '" + resolved + "', which contains it"});
        continue;
      }
      if (std::find(app.depends_on.begin(), app.depends_on.end(), resolved) == app.depends_on.end())
        app.depends_on.push_back(resolved);
    }
  }

  // App-level graph: an edge a → b for each app b that a waits for.
  std::map<std::string, size_t> number;
  for (size_t i = 0; i < idx.apps.size(); ++i) number[idx.apps[i]->name] = i;
  std::vector<std::vector<size_t>> edges(idx.apps.size());
  for (size_t i = 0; i < idx.apps.size(); ++i) {
    for (const auto& dep : idx.apps[i]->depends_on) {
      auto g = idx.group_apps.find(dep);
      if (g == idx.group_apps.end()) {
        edges[i].push_back(number[dep]);
      } else {
        for (const auto& a : g->second) edges[i].push_back(number[a]);
      }
    }
  }
  scc_finder scc{edges};
  for (size_t i = 0; i < edges.size(); ++i)
    if (scc.index_of[i] < 0) scc.visit(i);
  for (const auto& component : scc.cyclic) {
    auto start = *std::min_element(component.begin(), component.end()); // first in file order
    std::set<size_t> members{component.begin(), component.end()};
    std::string text;
    for (auto v : cycle_through(start, members, edges))
      text += (text.empty() ? "" : " -> ") + idx.apps[v]->name;
    errors.push_back({idx.apps[start]->where_of("depends_on"), "dependency cycle: " + text});
  }
}

} // namespace arbor::config::detail
