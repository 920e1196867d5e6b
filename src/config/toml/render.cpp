// `arbor check`: the tree as indented text, in start order.

#include "config/app_fields.hpp"
#include "config/loader.hpp"
#include "config/units.hpp"

namespace arbor::config {

namespace {

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

/// The app's name, its labelled keys (config/app_fields.cpp), its command.
std::string app_line(const app_spec& a) {
  std::string out = a.name;
  for (const auto& f : app_fields())
    if (f.check_label)
      if (auto part = f.check_label(a); !part.empty()) out += "  " + part;
  return out + "  `" + a.command + "`";
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
  if (tree.web.enabled)
    out += "web dashboard on " + tree.web.listen + (tree.web.read_only ? " (read-only)" : "") + "\n";
  return out;
}

} // namespace arbor::config
