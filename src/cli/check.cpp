#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"
#include "config/fd_budget.hpp"
#include "config/loader.hpp"
#include "config/ready_rule.hpp"
#include "os/fd_limit.hpp"
#include "os/spawn.hpp"

namespace arbor::cli {

namespace {

template <class F>
void for_each_app(const group_spec& g, const F& f) {
  for (const auto& c : g.children) {
    if (c.type == node_spec::kind::group) for_each_app(c.group, f);
    else f(c.app);
  }
}

void warn_apps(const group_spec& g, const std::string& path_env, std::vector<std::string>& out) {
  for_each_app(g, [&](const app_spec& a) {
    if (a.argv.empty()) return;
    std::string path = path_env;
    for (const auto& [k, v] : a.env)
      if (k == "PATH") path = v;
    if (auto err = os::check_cwd(a.cwd); !err.empty()) {
      out.push_back(a.name + ": " + err);
      return; // a relative command is looked for in the cwd
    }
    std::string err;
    if (os::resolve_executable(a.argv.front(), path, a.cwd, err).empty())
      out.push_back(a.name + ": " + err);
  });
}

} // namespace

std::vector<std::string> check_warnings(const tree_spec& tree, const std::string& path_env) {
  std::vector<std::string> out;
  warn_apps(tree.root, path_env, out);
  return out;
}

std::string render_readiness(const tree_spec& tree) {
  std::string out;
  for_each_app(tree.root, [&out](const app_spec& a) {
    out += "  " + a.name + ": " + config::ready_rule(a) + "\n";
  });
  return out.empty() ? out : "ready when:\n" + out;
}

std::vector<std::string> readiness_warnings(const tree_spec& tree) {
  std::vector<std::string> out;
  for_each_app(tree.root, [&out](const app_spec& a) {
    for (auto& w : config::ready_warnings(a)) out.push_back(a.name + ": " + w);
  });
  return out;
}

std::string fd_refusal_here(const tree_spec& tree) {
  return config::fd_refusal(config::descriptors_needed(tree.root), os::fd_hard_limit(),
                            "the limit a daemon started from this shell gets (its hard "
                            "RLIMIT_NOFILE)");
}

int check(const std::string& file, const std::string& env) {
  auto res = config::load_file(file, {env});
  if (!res.ok()) {
    for (auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", file.c_str(), res.errors.size(),
                 res.errors.size() == 1 ? "" : "s");
    return exit_bad_config;
  }
  if (!env.empty()) std::printf("environment: %s (each app's env_%s over its env)\n", env.c_str(), env.c_str());
  std::fputs(config::render_tree(*res.tree).c_str(), stdout);
  std::fputs(render_readiness(*res.tree).c_str(), stdout);
  if (auto refused = fd_refusal_here(*res.tree); !refused.empty()) {
    std::fprintf(stderr, "%s: error: %s\n", file.c_str(), refused.c_str());
    return exit_bad_config;
  }
  const char* path = std::getenv("PATH");
  for (const auto& w : check_warnings(*res.tree, path ? path : ""))
    std::fprintf(stderr, "%s: warning: %s (not there now: it must be when the app starts)\n",
                 file.c_str(), w.c_str());
  for (const auto& w : readiness_warnings(*res.tree))
    std::fprintf(stderr, "%s: warning: %s\n", file.c_str(), w.c_str());
  return exit_ok;
}

} // namespace arbor::cli
