// `arbor check`: the tree as indented text, in start order.


#include "config/detail.hpp"
#include "config/loader.hpp"
#include "config/shell_split.hpp"

namespace arbor::config {

namespace {

using namespace detail;

struct counts {
  size_t groups = 0, apps = 0, instances = 0;
};

void count(const group_spec& g, counts& c) {
  for (const auto& child : g.children) {
    if (child.type == node_spec::kind::app) {
      ++c.apps;
      c.instances += child.app.instances;
    } else {
      ++c.groups;
      count(child.group, c);
    }
  }
}

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

/// "[one_for_all intensity=3 period=10s]"; period only when it matters.
std::string group_flags(const group_spec& g) {
  std::string out = "[";
  out += to_string(g.strategy);
  if (g.intensity) out += " intensity=" + std::to_string(*g.intensity);
  if (g.intensity || g.period != std::chrono::seconds{5})
    out += " period=" + format_duration(g.period);
  return out + "]";
}

bool default_flags(const group_spec& g) {
  return g.strategy == strategy_kind::one_for_one && !g.intensity
         && g.period == std::chrono::seconds{5};
}

std::string health_text(const health_check_spec& h) {
  switch (h.type) {
  case health_check_spec::kind::http: return h.target;
  case health_check_spec::kind::tcp: return "tcp:" + h.target;
  case health_check_spec::kind::exec: return "exec:" + shell_quote(h.target);
  case health_check_spec::kind::none: break;
  }
  return "";
}

std::string app_line(const app_spec& a) {
  std::string out = a.name;
  auto add = [&](const std::string& part) { out += "  " + part; };
  if (a.instances > 1) add("×" + std::to_string(a.instances));
  add(std::string{"restart="} + to_string(a.restart));
  if (a.port) add("port=" + std::to_string(a.port));
  if (a.max_memory) add("max_memory=" + format_size(a.max_memory));
  if (!a.cron_restart.empty()) {
    add("cron=" + shell_quote(a.cron_restart));
    if (!a.cron_tz.empty()) out += " tz=" + a.cron_tz;
  }
  if (a.health.type != health_check_spec::kind::none) add("health=" + health_text(a.health));
  if (!a.ready.empty()) add("ready=" + a.ready);
  if (!a.depends_on.empty()) {
    std::string list;
    for (const auto& d : a.depends_on) list += (list.empty() ? "" : ",") + d;
    add("depends_on=" + list);
  }
  add("`" + a.command + "`");
  return out;
}

void render(const group_spec& g, const std::string& prefix, std::string& out) {
  for (size_t i = 0; i < g.children.size(); ++i) {
    bool last = i + 1 == g.children.size();
    const auto& child = g.children[i];
    out += prefix + (last ? "└── " : "├── ");
    if (child.type == node_spec::kind::app) {
      out += app_line(child.app) + "\n";
    } else {
      out += child.group.name + "  " + group_flags(child.group) + "\n";
      render(child.group, prefix + (last ? "    " : "│   "), out);
    }
  }
}

} // namespace

std::string render_tree(const tree_spec& tree) {
  counts c;
  count(tree.root, c);
  std::string name = tree.file.empty()
                       ? std::string{"config"}
                       : tree.file.substr(tree.file.rfind('/') + 1);
  std::string out = name + " (" + plural(c.groups, "group") + ", " + plural(c.apps, "app") + ", "
                    + plural(c.instances, "instance") + ")";
  if (!default_flags(tree.root)) out += "  " + group_flags(tree.root);
  out += "\n";
  render(tree.root, "", out);
  if (tree.metrics.enabled) out += "metrics on " + tree.metrics.listen + "\n";
  return out;
}

} // namespace arbor::config
