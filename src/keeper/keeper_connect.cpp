// The keeper_client's connection: connecting to <home>/keeper.sock, and
// starting arbor-keeper when nothing listens there (keeper_client.hpp).

#include "keeper/keeper_client.hpp"

#include "keeper/wire.hpp"
#include "os/daemon_spawn.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace arbor::keeper {

bool keeper_client::connect(const std::string& home, std::string& error) {
  std::lock_guard<std::mutex> guard{mtx_};
  return connect_locked(home, error);
}

bool keeper_client::connect_locked(const std::string& home, std::string& error) {
  close_locked();
  auto path = detail::socket_path(home);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = "keeper socket path too long: " + path;
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string{"socket: "} + std::strerror(errno);
    return false;
  }
  int rc;
  do
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    error = "connect " + path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  timeval rcv{5, 0}, snd{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
    keeper_pid_ = cred.pid;
  fd_ = fd;
  return true;
}

namespace {

/// Runs `bin [args...] home` in a clean state (no inherited descriptors,
/// default signals, empty mask) and waits for it: arbor-keeper forks the
/// real keeper and exits once that one listens. Returns its exit code, or -1
/// with `error` set.
int run_keeper(const std::string& home, const std::string& bin,
               const std::vector<std::string>& args, std::string& error) {
  std::vector<std::string> words{bin};
  words.insert(words.end(), args.begin(), args.end());
  words.push_back(home);
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (int fd = 0; fd < 3; ++fd)
    posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  os::init_clean_signals(attr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, bin.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    error = "cannot start " + bin + ": " + std::strerror(rc);
    return -1;
  }
  int status = 0;
  pid_t w;
  do
    w = ::waitpid(pid, &status, 0);
  while (w < 0 && errno == EINTR);
  if (w < 0) // reaped by someone else: whether it came up, connecting will tell
    return 0;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  error = bin + " died of signal " + std::to_string(WTERMSIG(status));
  return -1;
}

} // namespace

bool keeper_client::connect_or_spawn(const std::string& home, const std::string& keeper_binary,
                                     std::string& error, std::chrono::milliseconds timeout,
                                     const std::vector<std::string>& args) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(5);
  for (;;) {
    if (connect_locked(home, error))
      return true;
    std::string spawn_error;
    int code = run_keeper(home, keeper_binary, args, spawn_error);
    if (code == 0 && connect_locked(home, error))
      return true;
    if (code != 0 && code != 3) { // 3: another keeper holds the lock (starting or leaving)
      error = code < 0 ? spawn_error
                       : keeper_binary + " exited " + std::to_string(code) + "; see "
                           + detail::log_path(home);
      return false;
    }
    if (std::chrono::steady_clock::now() + pause > deadline) {
      error = "no keeper answers on " + detail::socket_path(home) + " (last: " + error + ")";
      return false;
    }
    std::this_thread::sleep_for(pause); // a keeper is on its way in or out
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

} // namespace arbor::keeper
