#include "os/spawn.hpp"

#include "os/spawn_clone.hpp"
#include "os/identity.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

extern char** environ;

namespace arbor::os {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

/// One process-wide read-only /dev/null (close-on-exec), opened on first use,
/// so a spawn needs a dup2 action rather than an open action (which copies
/// the path into the action list). -1 if it cannot be opened.
int dev_null_fd() {
  static const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd;
}

/// Every signal, for POSIX_SPAWN_SETSIGDEF. sigfillset leaves out glibc's two
/// internal signals (32, 33), and glibc's spawn child then sets exactly those
/// to SIG_IGN, which exec keeps: children would start with SigIgn
/// 0x180000000. Setting their bits by hand makes the child reset them to
/// SIG_DFL too (safe: SIG_DFL is no handler, and nothing sends them to the
/// child before exec). SIGKILL/SIGSTOP in the set are harmless: the child's
/// sigaction on them fails and is ignored.
sigset_t make_all_signals() {
  sigset_t s;
  sigfillset(&s);
#ifdef __GLIBC__
  constexpr size_t bits = 8 * sizeof(s.__val[0]);
  for (int sig = 1; sig < NSIG; ++sig)
    s.__val[(sig - 1) / bits] |= 1UL << ((sig - 1) % bits);
#endif
  return s;
}

const sigset_t& all_signals() {
  static const sigset_t s = make_all_signals();
  return s;
}

/// Adds "fd `target` comes from `from`" (-1: /dev/null) to `fa`.
int add_stdio(posix_spawn_file_actions_t* fa, int from, int target) {
  if (from < 0) {
    from = dev_null_fd();
    if (from < 0)
      return posix_spawn_file_actions_addopen(fa, target, "/dev/null", O_RDWR, 0);
  }
  // dup2(x, x) as a spawn action clears FD_CLOEXEC on x (POSIX 2017, glibc).
  return posix_spawn_file_actions_adddup2(fa, from, target);
}

/// "dir/file", with no doubled '/'.
std::string join_path(const std::string& dir, const std::string& file) {
  if (dir.empty())
    return file;
  if (dir.back() == '/')
    return dir + file;
  return dir + "/" + file;
}

/// `p` as seen from a child running in `cwd` ("" = ours).
std::string from_cwd(const std::string& p, const std::string& cwd) {
  if (p.empty() || p.front() == '/' || cwd.empty())
    return p;
  return join_path(cwd, p);
}

enum class exec_check { ok, missing, directory, not_executable };

exec_check check_executable(const std::string& p, int* err) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) {
    *err = errno;
    return exec_check::missing;
  }
  if (S_ISDIR(st.st_mode)) {
    *err = EISDIR;
    return exec_check::directory;
  }
  if (!S_ISREG(st.st_mode) || ::faccessat(AT_FDCWD, p.c_str(), X_OK, AT_EACCESS) != 0) {
    *err = EACCES;
    return exec_check::not_executable;
  }
  *err = 0;
  return exec_check::ok;
}

} // namespace

spawn_plan::spawn_plan(std::string path, std::vector<std::string> argv,
                       std::vector<std::string> env, std::string cwd)
  : spawn_plan(std::move(path), std::move(argv),
               std::make_shared<const std::vector<std::string>>(std::move(env)), {},
               std::move(cwd)) {}

spawn_plan::spawn_plan(std::string path, std::vector<std::string> argv,
                       std::shared_ptr<const std::vector<std::string>> shared,
                       std::vector<std::string> own, std::string cwd,
                       std::shared_ptr<const listen_set> sockets,
                       std::shared_ptr<const child_credentials> creds)
  : path_(std::move(path)),
    argv_(std::move(argv)),
    shared_env_(shared ? std::move(shared)
                       : std::make_shared<const std::vector<std::string>>()),
    env_(std::move(own)),
    cwd_(std::move(cwd)),
    sockets_(sockets && !sockets->fds.empty() ? std::move(sockets) : nullptr),
    creds_(std::move(creds)) {
  if (sockets_) {
    env_.push_back("LISTEN_FDS=" + std::to_string(sockets_->fds.size()));
    env_.push_back(sockets_->names);
    // Room for the pid the child writes itself (spawn_clone.cpp).
    env_.push_back("LISTEN_PID=" + std::string(detail::listen_pid_digits, '0'));
  }
  if (argv_.empty())
    argv_.push_back(path_);
  argv_ptrs_.reserve(argv_.size() + 1);
  for (auto& a : argv_)
    argv_ptrs_.push_back(a.data());
  argv_ptrs_.push_back(nullptr);
  auto key_of = [](const std::string& kv) { return std::string_view{kv}.substr(0, kv.find('=')); };
  auto overridden = [&](const std::string& kv) {
    for (auto& o : env_)
      if (key_of(o) == key_of(kv))
        return true;
    return false;
  };
  // Sockets arbor itself was handed (it may run socket-activated) are not the
  // app's: their LISTEN_* never reach a child that gets none.
  auto foreign_listen = [&](const std::string& kv) {
    return !sockets_ && kv.compare(0, 7, "LISTEN_") == 0
           && (key_of(kv) == "LISTEN_FDS" || key_of(kv) == "LISTEN_PID"
               || key_of(kv) == "LISTEN_FDNAMES");
  };
  env_ptrs_.reserve(shared_env_->size() + env_.size() + 1);
  for (auto& e : *shared_env_)
    if ((env_.empty() || !overridden(e)) && !foreign_listen(e))
      env_ptrs_.push_back(const_cast<char*>(e.c_str())); // execve does not write it
  for (auto& e : env_) {
    env_ptrs_.push_back(e.data());
    if (sockets_ && e.compare(0, 11, "LISTEN_PID=") == 0) listen_pid_at_ = e.data() + 11;
    if (e.size() > identity_generation_at + 16 && e.compare(0, identity_key.size(), identity_key) == 0
        && e[identity_key.size()] == '=')
      generation_at_ = e.data() + identity_generation_at;
  }
  env_ptrs_.push_back(nullptr);
  dev_null_fd(); // open it now, not on the first (hot) spawn
  all_signals();
}

void spawn_plan::set_generation(uint64_t generation) {
  if (generation_at_) write_generation(generation_at_, generation);
}

bool clone_into_cgroup_available() { return detail::clone_into_cgroup_supported(); }

spawn_result spawn_plan::spawn(int stdout_fd, int stderr_fd, const spawn_cgroup* cgroup) const {
  spawn_result res;

  // The fast path first: no copy of our (large) descriptor table.
  detail::clone_request req;
  req.path = path_.c_str();
  req.argv = argv_ptrs_.data();
  req.envp = env_ptrs_.data();
  req.cwd = cwd_.empty() ? nullptr : cwd_.c_str();
  req.stdout_fd = stdout_fd;
  req.stderr_fd = stderr_fd;
  if (sockets_) {
    req.listen_fds = sockets_->fds.data();
    req.listen_count = sockets_->fds.size();
    req.listen_pid_at = listen_pid_at_;
  }
  if (cgroup) {
    req.cgroup_fd = cgroup->dir_fd;
    req.join = cgroup->join;
  }
  req.creds = creds_.get();
  auto fast = detail::clone_spawn(req);
  switch (fast.step) {
    case detail::clone_step::unavailable:
      if (cgroup) {
        res.error = ENOSYS;
        res.what = "cannot spawn '" + path_ + "' in its cgroup: that needs the clone spawn "
                   "path (Linux 5.9 or later on x86_64 or aarch64)";
        return res;
      }
      if (sockets_) {
        res.error = ENOSYS;
        res.what = "cannot spawn '" + path_ + "' with its listening sockets: that needs "
                   "Linux 5.9 or later on x86_64 or aarch64 (close_range)";
        return res;
      }
      if (creds_) {
        res.error = ENOSYS;
        res.what = "cannot spawn '" + path_ + "' as its user or with its limits: that needs "
                   "Linux 5.9 or later on x86_64 or aarch64 (close_range)";
        return res;
      }
      break; // posix_spawn below
    case detail::clone_step::none:
      res.pid = fast.pid;
      return res;
    case detail::clone_step::chdir:
      res.error = fast.error;
      res.what = "cannot chdir to '" + cwd_ + "': " + errno_text(fast.error);
      return res;
    case detail::clone_step::credentials:
      res.error = fast.error;
      res.what = credential_failure(*creds_, fast.cred_step, fast.cred_index, fast.error);
      return res;
    case detail::clone_step::exec:
      res.error = fast.error;
      res.what = (transient_spawn_error(fast.error) ? "cannot spawn '" : "cannot execute '")
                 + path_ + "': " + errno_text(fast.error);
      return res;
    case detail::clone_step::cgroup:
      res.error = fast.error;
      res.what = "cannot start '" + path_ + "' in its cgroup: " + errno_text(fast.error);
      return res;
    case detail::clone_step::setup:
    case detail::clone_step::files:
    case detail::clone_step::pgroup:
      res.error = fast.error;
      res.what = "cannot spawn '" + path_ + "': " + errno_text(fast.error);
      return res;
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  const sigset_t& all = all_signals();
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                    | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  // Actions run in order: stdout and stderr first (so a caller's fd 0 still
  // means the original fd 0), then stdin, then chdir, then close the rest.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int rc = add_stdio(&fa, stdout_fd, STDOUT_FILENO);
  if (rc == 0)
    rc = add_stdio(&fa, stderr_fd, STDERR_FILENO);
  if (rc == 0)
    rc = add_stdio(&fa, -1, STDIN_FILENO);
  if (rc == 0 && !cwd_.empty())
    rc = posix_spawn_file_actions_addchdir_np(&fa, cwd_.c_str());
  if (rc == 0)
    rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);

  pid_t pid = -1;
  if (rc == 0)
    rc = posix_spawn(&pid, path_.c_str(), &fa, &attr, argv_ptrs_.data(),
                     env_ptrs_.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);

  if (rc == 0) {
    res.pid = pid;
    return res;
  }
  // Failure path only: find out which step failed.
  res.error = rc;
  if (!cwd_.empty()) {
    struct stat st;
    int err = 0;
    if (::stat(cwd_.c_str(), &st) != 0)
      err = errno;
    else if (!S_ISDIR(st.st_mode))
      err = ENOTDIR;
    else if (::faccessat(AT_FDCWD, cwd_.c_str(), X_OK, AT_EACCESS) != 0)
      err = errno;
    if (err != 0) {
      res.error = err;
      res.what = "cannot chdir to '" + cwd_ + "': " + errno_text(err);
      return res;
    }
  }
  if (transient_spawn_error(rc))
    res.what = "cannot spawn '" + path_ + "': " + errno_text(rc);
  else
    res.what = "cannot execute '" + path_ + "': " + errno_text(rc);
  return res;
}

std::string resolve_executable(const std::string& file, const std::string& path_env,
                               const std::string& cwd, std::string& error) {
  error.clear();
  if (file.empty()) {
    error = "empty command";
    return {};
  }
  int err = 0;
  if (file.find('/') != std::string::npos) {
    // Absolute stays absolute; relative is relative to the child's cwd: join
    // it when that cwd is absolute, else keep it (the child chdirs first).
    const std::string seen = from_cwd(file, cwd);
    switch (check_executable(seen, &err)) {
      case exec_check::ok:
        return (cwd.empty() || cwd.front() != '/') ? file : seen;
      case exec_check::missing:
        error = "'" + seen + "': " + errno_text(err);
        return {};
      case exec_check::directory:
        error = "'" + seen + "' is a directory";
        return {};
      case exec_check::not_executable:
        error = "'" + seen + "' is not executable";
        return {};
    }
  }
  // execvp's default search path when PATH is not set.
  const std::string& search = path_env.empty() ? std::string("/bin:/usr/bin") : path_env;
  std::string first_denied;
  size_t begin = 0;
  while (begin <= search.size()) {
    size_t end = search.find(':', begin);
    if (end == std::string::npos)
      end = search.size();
    std::string dir = search.substr(begin, end - begin);
    if (dir.empty())
      dir = "."; // an empty entry means the current directory
    const std::string candidate = join_path(dir, file);
    const std::string seen = from_cwd(candidate, cwd);
    switch (check_executable(seen, &err)) {
      case exec_check::ok:
        return (candidate.front() == '/' || cwd.empty() || cwd.front() != '/')
                 ? candidate
                 : seen;
      case exec_check::not_executable:
        if (first_denied.empty())
          first_denied = seen;
        break;
      case exec_check::missing:
      case exec_check::directory:
        break;
    }
    begin = end + 1;
  }
  if (!first_denied.empty())
    error = "'" + first_denied + "' is not executable";
  else
    error = "command not found: '" + file + "' (PATH=" + search + ")";
  return {};
}

std::string check_cwd(const std::string& cwd) {
  if (cwd.empty())
    return {};
  struct stat st;
  if (::stat(cwd.c_str(), &st) != 0)
    return "cwd '" + cwd + "': " + errno_text(errno);
  if (!S_ISDIR(st.st_mode))
    return "cwd '" + cwd + "': " + errno_text(ENOTDIR);
  if (::faccessat(AT_FDCWD, cwd.c_str(), X_OK, AT_EACCESS) != 0)
    return "cwd '" + cwd + "': " + errno_text(errno);
  return {};
}

std::vector<std::string> merge_environment(
  const std::vector<std::string>& base,
  const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> out = base;
  std::unordered_map<std::string, size_t> index;
  index.reserve(out.size() + extra.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const auto eq = out[i].find('=');
    // First occurrence wins the slot, as getenv would see it.
    index.emplace(out[i].substr(0, eq), i);
  }
  for (const auto& [key, value] : extra) {
    std::string entry = key + "=" + value;
    auto it = index.find(key);
    if (it != index.end()) {
      out[it->second] = std::move(entry);
    } else {
      index.emplace(key, out.size());
      out.push_back(std::move(entry));
    }
  }
  return out;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> out;
  if (environ == nullptr)
    return out;
  for (char** e = environ; *e != nullptr; ++e)
    out.emplace_back(*e);
  return out;
}

int signal_group(pid_t pgid, int sig) {
  // kill(0, ...) is our own group and kill(-1, ...) is every process we may
  // signal: never let a bad pgid turn into either.
  if (pgid <= 1)
    return EINVAL;
  return ::kill(-pgid, sig) == 0 ? 0 : errno;
}

} // namespace arbor::os
