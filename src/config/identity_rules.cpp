// The rules of who an app runs as and its limits, whoever wrote them:
// ranges, limit names, and what this arbor can do (os/credentials.hpp
// resolves the user and group and refuses another one when arbor is not
// root).

#include <set>

#include "config/validate.hpp"
#include "os/credentials.hpp"

namespace arbor::config::detail {

void check_identity(const app_spec& app, std::vector<diagnostic>& errors) {
  auto error = [&](const std::string& key, std::string message) {
    errors.push_back({app.where_of(key), std::move(message)});
  };
  if (app.nice && (*app.nice < -20 || *app.nice > 19))
    error("nice", range_message("nice", -20, 19, *app.nice));
  if (app.oom_score_adj && (*app.oom_score_adj < -1000 || *app.oom_score_adj > 1000))
    error("oom_score_adj", range_message("oom_score_adj", -1000, 1000, *app.oom_score_adj));
  if (app.umask < -1 || app.umask > 0777)
    error("umask", "'umask' must be 0 to 0777, got " + std::to_string(app.umask));
  std::set<std::string> seen;
  for (const auto& r : app.rlimits) {
    const auto key = "rlimits." + r.name;
    if (!os::find_rlimit(r.name))
      error("rlimits", "unknown limit '" + r.name + "' in 'rlimits' of app '" + app.name + "'");
    else if (!seen.insert(r.name).second)
      error(key, "'" + key + "' is given twice");
    else if (r.soft > r.hard)
      error(key, "'" + key + "': the soft limit " + std::to_string(r.soft)
                   + " is above the hard limit " + std::to_string(r.hard));
  }
  for (auto& [key, message] : os::credential_refusals(app)) error(key, std::move(message));
}

} // namespace arbor::config::detail
