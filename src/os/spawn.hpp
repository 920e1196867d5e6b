#pragma once

// Starting OS processes the way posix_spawn does (own process group, clean
// signal mask and dispositions, no inherited descriptors beyond stdio), by a
// vfork-style clone that does not copy our descriptor table (spawn_clone.hpp),
// or by posix_spawn itself where that is not available.

#include <cstdint>
#include <memory>
#include <string>
#include <cerrno>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "os/credentials.hpp"
#include "os/listen_socket.hpp"

namespace arbor::os {

/// Outcome of one spawn. pid > 0 on success; otherwise `error` is the errno
/// and `what` says what failed, e.g. "cannot execute '/bin/nope': No such file
/// or directory" or "cannot chdir to '/x': No such file or directory".
struct spawn_result {
  pid_t pid = -1;
  int error = 0;
  std::string what;
  bool ok() const { return pid > 0; }
};

/// An error the system may get over by itself (no process, memory or
/// descriptor to spare now: EAGAIN, ENOMEM, EMFILE, ENFILE): the caller
/// retries later rather than calling the command broken.
inline bool transient_spawn_error(int err) {
  return err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE;
}

/// Where a spawn's process starts: a cgroup v2 directory (an open fd; -1:
/// ours) and cgroup.procs files it joins before exec (null-terminated; null:
/// none). Both need the clone path (os/cgroup_tree.hpp).
struct spawn_cgroup {
  int dir_fd = -1;
  const char* const* join = nullptr;
};

/// Whether a spawn can start its process in a cgroup v2 directory at the
/// clone itself (clone3 CLONE_INTO_CGROUP); where not, it joins by a write.
bool clone_into_cgroup_available();

/// Everything needed to start one instance, prepared once and reused for
/// every restart (the argv/envp pointer arrays are built in the constructor so
/// the hot path allocates nothing).
class spawn_plan {
public:
  /// `path`: the executable as resolved by resolve_executable (absolute, or
  /// relative to `cwd`). `argv[0]` is passed as given. `env`: full
  /// environment as "K=V" strings. `cwd`: "" = inherit arbor's.
  spawn_plan(std::string path, std::vector<std::string> argv,
             std::vector<std::string> env, std::string cwd);
  /// The same with the environment in two parts: `shared` (one per app, held,
  /// not copied: an app's instances differ in a few variables only) and
  /// `own` ("K=V"), which replaces any entry of `shared` with the same key.
  /// `sockets`: listening sockets every spawn hands on by systemd's
  /// protocol (fds 3.., LISTEN_FDS, LISTEN_FDNAMES, and LISTEN_PID, which
  /// the child writes itself); null = none. `creds`: the identity and
  /// limits the child takes on right before exec (credentials.hpp); null =
  /// arbor's own.
  spawn_plan(std::string path, std::vector<std::string> argv,
             std::shared_ptr<const std::vector<std::string>> shared,
             std::vector<std::string> own, std::string cwd,
             std::shared_ptr<const listen_set> sockets = nullptr,
             std::shared_ptr<const child_credentials> creds = nullptr);
  spawn_plan(const spawn_plan&) = delete;
  spawn_plan& operator=(const spawn_plan&) = delete;

  /// Starts the process. stdin is /dev/null; stdout/stderr go to the given
  /// descriptors (-1: /dev/null). The child runs in a new process group
  /// (pgid == pid), with an empty signal mask and every signal at its default
  /// disposition, and all descriptors >= 3 closed but the plan's listening
  /// sockets at 3... A plan with sockets or credentials needs the clone path
  /// (Linux >= 5.9 on x86_64/aarch64): posix_spawn can neither tell the child
  /// its own pid before exec nor set its user and limits, so there it fails
  /// with ENOSYS. Never throws.
  /// `cgroup`: where the process starts (null: our cgroups).
  spawn_result spawn(int stdout_fd, int stderr_fd, const spawn_cgroup* cgroup = nullptr) const;

  /// Sets the generation of the plan's own ARBOR_ID entry (identity.hpp), in
  /// place: the next spawn carries it. No-op for a plan without one.
  void set_generation(uint64_t generation);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& argv() const { return argv_; }
  const std::string& cwd() const { return cwd_; }

private:
  std::string path_;
  std::vector<std::string> argv_;
  std::shared_ptr<const std::vector<std::string>> shared_env_; ///< never null
  std::vector<std::string> env_;                               ///< own entries
  std::string cwd_;
  std::vector<char*> argv_ptrs_;
  std::vector<char*> env_ptrs_;
  char* generation_at_ = nullptr;                              ///< in env_'s ARBOR_ID entry
  std::shared_ptr<const listen_set> sockets_;                  ///< null: none
  char* listen_pid_at_ = nullptr;                              ///< in env_'s LISTEN_PID entry
  std::shared_ptr<const child_credentials> creds_;             ///< null: none
};

/// Resolves `file` the way execvp would, but against the *child's* PATH
/// (`path_env`) and working directory: a name containing '/' is taken as is
/// (relative ones relative to `cwd`) and must be an executable regular file;
/// otherwise each PATH entry is tried. Returns the path to exec, or "" with
/// `error` set to a message such as "command not found: 'nodee' (PATH=...)",
/// "'/etc/passwd' is not executable", "'/tmp' is a directory".
std::string resolve_executable(const std::string& file, const std::string& path_env,
                               const std::string& cwd, std::string& error);

/// Checks that `cwd` exists and is a directory; "" = fine. Returns "" or a
/// message like "cwd '/nope': No such file or directory".
std::string check_cwd(const std::string& cwd);

/// Merges `base` ("K=V" strings, e.g. from environ) with `extra` pairs
/// applied in order; a later key replaces an earlier one in place.
std::vector<std::string> merge_environment(
  const std::vector<std::string>& base,
  const std::vector<std::pair<std::string, std::string>>& extra);

/// The current process's environment as "K=V" strings.
std::vector<std::string> current_environment();

/// Sends `sig` to process group `pgid`. Returns 0 or errno (ESRCH when the
/// group is gone; EINVAL for pgid <= 1, which would mean our own group or
/// every process).
int signal_group(pid_t pgid, int sig);

} // namespace arbor::os
