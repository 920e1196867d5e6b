// Start order with depends_on: inside every group, a child (app or group)
// comes after the siblings it depends on, otherwise file order. The tree
// starts children in this order and stops them in reverse, so dependents
// stop before what they depend on.

#include <algorithm>

#include "config/validate.hpp"

namespace arbor::config::detail {

namespace {

bool inside(const std::string& name, const std::string& group) {
  return name.size() > group.size() && name.compare(0, group.size(), group) == 0
         && name[group.size()] == '.';
}

/// Whether dependency `dep` (an app or group path) names something in `c`.
bool covers(const node_spec& c, const std::string& dep) {
  const auto& n = c.name();
  if (dep == n || inside(n, dep)) return true;
  return c.type == node_spec::kind::group && inside(dep, n);
}

void deps_of(const node_spec& c, std::vector<std::string>& out) {
  if (c.type == node_spec::kind::app) {
    out.insert(out.end(), c.app.depends_on.begin(), c.app.depends_on.end());
    return;
  }
  for (const auto& x : c.group.children) deps_of(x, out);
}

} // namespace

void order_by_dependencies(group_spec& g) {
  for (auto& c : g.children)
    if (c.type == node_spec::kind::group) order_by_dependencies(c.group);
  auto n = g.children.size();
  std::vector<std::vector<bool>> after(n, std::vector<bool>(n, false)); // after[a][b]: a after b
  for (size_t a = 0; a < n; ++a) {
    std::vector<std::string> deps;
    deps_of(g.children[a], deps);
    for (size_t b = 0; b < n; ++b)
      if (a != b)
        for (const auto& d : deps)
          if (covers(g.children[b], d) && !covers(g.children[a], d)) after[a][b] = true;
  }
  // Kahn's algorithm, always taking the earliest child in file order; a
  // cycle between groups (apps themselves are acyclic) keeps file order.
  std::vector<bool> placed(n, false);
  std::vector<size_t> order;
  while (order.size() < n) {
    size_t pick = n;
    for (size_t a = 0; a < n && pick == n; ++a) {
      if (placed[a]) continue;
      bool free = true;
      for (size_t b = 0; b < n && free; ++b) free = placed[b] || !after[a][b];
      if (free) pick = a;
    }
    if (pick == n)
      for (size_t a = 0; a < n && pick == n; ++a)
        if (!placed[a]) pick = a;
    placed[pick] = true;
    order.push_back(pick);
  }
  std::vector<node_spec> sorted;
  sorted.reserve(n);
  for (auto i : order) sorted.push_back(std::move(g.children[i]));
  g.children = std::move(sorted);
}

} // namespace arbor::config::detail
