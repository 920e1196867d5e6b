#pragma once

// Who an app's processes run as, and their limits: `user`, `group`, `umask`,
// `rlimits`, `nice`, `oom_score_adj`. The parent resolves everything once
// per plan (names to ids, the user's supplementary groups by getgrouplist,
// the limits to numbers); the child only applies the result with raw system
// calls, in spawn_clone.cpp, right before exec: rlimits, nice,
// oom_score_adj, umask, then setgroups, setgid and setuid last.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "arbor/spec.hpp"

namespace arbor::os {

/// A limit `rlimits` may name: its resource and whether it counts bytes
/// (so "64M" means something).
struct rlimit_kind {
  std::string_view name; ///< "nofile"
  int resource;          ///< RLIMIT_NOFILE
  bool size;
};

/// Every limit `rlimits` accepts, in setrlimit(2)'s order.
const std::vector<rlimit_kind>& rlimit_kinds();
/// nullptr for a name not in rlimit_kinds().
const rlimit_kind* find_rlimit(std::string_view name);

/// What the child sets before exec, prepared by the parent. The child reads
/// it and calls the kernel only: nothing here is resolved or allocated there.
struct child_credentials {
  struct limit {
    int resource;
    uint64_t soft, hard;
  };
  std::vector<limit> limits;
  std::vector<std::string> limit_names; ///< limits[i]'s name, for messages
  bool set_nice = false;
  int nice = 0;
  bool set_oom = false;
  int oom_score_adj = 0;
  char oom_text[8] = {}; ///< oom_score_adj in decimal, what the child writes
  size_t oom_len = 0;
  bool set_umask = false;
  unsigned umask = 0;
  bool set_ids = false;  ///< setgroups, setgid, setuid (root only)
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups; ///< the user's groups (getgrouplist), `gid` among them
};

/// The step of child_credentials the child failed at.
enum class credential_step : uint8_t { none, rlimit, nice, oom_score_adj, umask, groups, gid, uid };

/// "cannot set rlimit nofile: Operation not permitted", "cannot setuid to
/// 65534: ...": what a failed step means. `index` is the limit's.
std::string credential_failure(const child_credentials& c, credential_step step, size_t index,
                               int err);

/// A passwd entry (or a bare uid without one: known == false).
struct user_entry {
  uid_t uid = 0;
  gid_t gid = 0;
  bool known = false;
  std::string name, home, shell;
};

/// `text` as a user name or a numeric uid. nullopt and `error` ("no such
/// user 'x'") for an unknown name.
std::optional<user_entry> lookup_user(const std::string& text, std::string& error);
/// `text` as a group name or a numeric gid.
std::optional<gid_t> lookup_group(const std::string& text, std::string& error);

/// Why this arbor cannot run `app` as its keys ask, as (key, message) pairs:
/// an unknown user or group, another user or group while arbor is not root,
/// a hard limit above arbor's own while arbor is not root. Empty when it can.
std::vector<std::pair<std::string, std::string>> credential_refusals(const app_spec& app);

/// What a plan needs to apply `app`'s keys: null credentials when it sets
/// none; HOME, USER, LOGNAME and SHELL of `user` unless its env sets them.
struct prepared_credentials {
  std::shared_ptr<const child_credentials> creds;
  std::vector<std::string> env; ///< "K=V"
};

/// Resolves `app`'s keys now (the user may be gone since the check). nullopt
/// and `error` set when they cannot be applied.
std::optional<prepared_credentials> prepare_credentials(const app_spec& app, std::string& error);

} // namespace arbor::os
