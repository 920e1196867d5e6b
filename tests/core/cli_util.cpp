#include "cli_util.hpp"
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace arbor::test {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

int daemon_pid(const std::string& home) {
  int pid = 0;
  std::ifstream(home + "/arbor.pid") >> pid;
  return pid;
}

std::string daemon_maps(const std::string& home) {
  int pid = daemon_pid(home);
  REQUIRE(pid > 0);
  return slurp("/proc/" + std::to_string(pid) + "/maps");
}

void up_with(const std::string& home, const std::string& cfg, const std::string& toml) {
  std::ofstream(cfg) << toml;
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
}

cli_result run_program(const std::vector<std::string>& args, const std::vector<std::string>& env_set,
                       const std::string& scratch_dir, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv_s = args;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = env_set;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    bool replaced = false;
    for (auto& set : env_set)
      replaced = replaced || kv.rfind(set.substr(0, set.find('=') + 1), 0) == 0;
    if (!replaced) env.push_back(kv);
  }
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  static int counter = 0;
  auto base = scratch_dir + "/.cli-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  auto out = base + ".out", err = base + ".err";
  ::mkdir(scratch_dir.c_str(), 0700);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv_s[0].c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd p{pfd, POLLIN, 0};
  bool done = ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  if (!done) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(pfd);
  cli_result r;
  r.rc = done && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  return r;
}

cli_result run_arbor(const std::vector<std::string>& args, const std::string& home,
                     std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{ARBOR_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, {"ARBOR_HOME=" + home, "NO_COLOR=1"}, home, timeout);
}

nlohmann::json arbor_json(std::vector<std::string> args, const std::string& home) {
  args.push_back("--json");
  auto r = run_arbor(args, home);
  INFO("arbor " << args.front() << ": " << r.err);
  REQUIRE(r.rc == 0);
  return nlohmann::json::parse(r.out);
}

nlohmann::json instance_of(const std::string& home, const std::string& id) {
  auto st = arbor_json({"status"}, home);
  for (auto& i : st["instances"])
    if (i["id"] == id) return i;
  return {};
}

std::map<std::string, int> pids_of(const std::string& home) {
  std::map<std::string, int> out;
  auto st = arbor_json({"status"}, home); // keep it: a range-for over [] of a temporary dangles
  for (auto& i : st["instances"])
    out[i["id"].get<std::string>()] = i["pid"].get<int>();
  return out;
}

int pidfd_of_home(int pid, const std::string& home) {
  if (pid <= 1) return -1;
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pfd < 0) return -1;
  // The pidfd pins this process: if its environment names `home`, signals
  // through the pidfd reach it and nothing else, whatever the pid's history.
  auto env = slurp("/proc/" + std::to_string(pid) + "/environ");
  auto want = "ARBOR_HOME=" + home;
  for (size_t at = 0; at < env.size();) {
    auto end = env.find('\0', at);
    if (end == std::string::npos) end = env.size();
    if (env.compare(at, end - at, want) == 0) return pfd;
    at = end + 1;
  }
  ::close(pfd);
  return -1;
}

bool signal_if_of_home(int pid, const std::string& home, int sig) {
  int pfd = pidfd_of_home(pid, home);
  if (pfd < 0) return false;
  bool ok = ::syscall(SYS_pidfd_send_signal, pfd, sig, nullptr, 0) == 0;
  ::close(pfd);
  return ok;
}

std::vector<int> processes_of_home(const std::string& home) {
  std::vector<int> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 1 || pid == ::getpid()) continue;
    int pfd = pidfd_of_home(pid, home);
    if (pfd < 0) continue;
    ::close(pfd);
    out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

tick_check check_ticks(const std::string& log, const std::string& prefix) {
  tick_check out;
  std::ifstream in(log);
  std::string line;
  long last = -1;
  const std::string head = prefix + "tick ";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    long n = line.rfind(head, 0) == 0 ? std::strtol(line.c_str() + head.size(), &end, 10) : -1;
    if (n < 0 || !end || *end != '\0') {
      ++out.broken;
      continue;
    }
    if (last >= 0 && n != last + 1 && out.first_gap.empty())
      out.first_gap = "after tick " + std::to_string(last) + ": " + std::to_string(n);
    last = n;
    ++out.lines;
  }
  return out;
}

std::vector<int> programs_of_home(const std::string& home, const std::string& name) {
  std::vector<int> out;
  for (int pid : processes_of_home(home)) {
    auto cmd = slurp("/proc/" + std::to_string(pid) + "/cmdline");
    auto arg0 = cmd.substr(0, cmd.find('\0'));
    if (arg0.size() >= name.size() && arg0.compare(arg0.size() - name.size(), name.size(), name) == 0)
      out.push_back(pid);
  }
  return out;
}

namespace {

/// The daemon of `home` if it still runs: SIGTERM stops its tree gracefully;
/// give it a moment, then make sure.
void stop_daemon(const std::string& home) {
  int pid = daemon_pid(home);
  if (pid <= 0) return;
  // The file outlives a daemon that was SIGKILLed, and pids are reused (the
  // suite starts tens of thousands of processes; pid_max may be 32768): only
  // a process of this home is signalled, through a pidfd.
  int pfd = pidfd_of_home(pid, home);
  if (pfd < 0) return;
  ::syscall(SYS_pidfd_send_signal, pfd, SIGTERM, nullptr, 0);
  pollfd p{pfd, POLLIN, 0};
  if (::poll(&p, 1, 10000) <= 0) ::syscall(SYS_pidfd_send_signal, pfd, SIGKILL, nullptr, 0);
  ::close(pfd);
}

} // namespace

daemon_guard::~daemon_guard() {
  // Still running: the test failed before `down`.
  stop_daemon(home);
  // After a `down` nothing of the home is left; after a daemon's death (a
  // test that killed it, or a daemon that crashed) its keeper and apps are,
  // and the keeper may be starting a new daemon, or a daemon a new keeper:
  // each replaces the other. So first freeze every process of the home
  // (SIGSTOP) until a pass finds none not frozen yet — a frozen process
  // starts nothing — then SIGKILL them all.
  // A process forked in the instant of a scan (a keeper's new daemon on its
  // way through a double fork) shows only after it: so again, until none is
  // left for a moment.
  for (int round = 0; round < 20; ++round) {
    std::vector<int> frozen;
    for (int pass = 0; pass < 50; ++pass) {
      bool fresh = false;
      for (int pid : processes_of_home(home)) {
        if (std::find(frozen.begin(), frozen.end(), pid) != frozen.end()) continue;
        if (signal_if_of_home(pid, home, SIGSTOP)) frozen.push_back(pid);
        fresh = true;
      }
      if (!fresh) break;
    }
    for (int pid : frozen) signal_if_of_home(pid, home, SIGKILL);
    if (eventually([&] { return processes_of_home(home).empty(); }, std::chrono::milliseconds(300)))
      break;
  }
}

bool replace_daemon(const std::string& home) {
  const int daemon = daemon_pid(home);
  if (!signal_if_of_home(daemon, home, SIGKILL) || !wait_gone(daemon)) return false;
  return eventually([&] { return daemon_pid(home) != daemon && run_arbor({"status"}, home).rc == 0; },
                    std::chrono::seconds(30));
}

} // namespace arbor::test
