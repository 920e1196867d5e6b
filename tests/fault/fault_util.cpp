#include "fault_util.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <regex>
#include <sstream>

namespace arbor::test {

namespace {

/// The numeric entries of a /proc directory.
std::vector<int> numeric_entries(const std::string& dir) {
  std::vector<int> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long n = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0') out.push_back(static_cast<int>(n));
  }
  ::closedir(d);
  return out;
}

/// State letter and ppid from /proc/<pid>/stat; false if gone.
bool stat_of(int pid, char& state, int& ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  std::istringstream rest(line.substr(close + 2));
  return static_cast<bool>(rest >> state >> ppid);
}

} // namespace

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

bool wait_until(const std::function<bool()>& pred, ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms); // another process's state: nothing to wait on
  }
}

std::vector<int> marked_processes(const std::string& marker) {
  const std::string needle = "FAULT_MARK=" + marker;
  std::vector<int> out;
  for (int pid : numeric_entries("/proc")) {
    std::string env = slurp("/proc/" + std::to_string(pid) + "/environ");
    size_t at = 0;
    while (at < env.size()) {
      size_t end = env.find('\0', at);
      if (end == std::string::npos) end = env.size();
      if (env.compare(at, end - at, needle) == 0) {
        char state = 0;
        int ppid = 0;
        if (stat_of(pid, state, ppid) && state != 'Z') out.push_back(pid);
        break;
      }
      at = end + 1;
    }
  }
  return out;
}

std::vector<int> zombie_children(int ppid) {
  std::vector<int> out;
  for (int pid : numeric_entries("/proc")) {
    char state = 0;
    int parent = 0;
    if (stat_of(pid, state, parent) && parent == ppid && state == 'Z') out.push_back(pid);
  }
  return out;
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

std::set<int> open_fds(int pid) {
  auto v = numeric_entries("/proc/" + std::to_string(pid) + "/fd");
  return {v.begin(), v.end()};
}

std::vector<logged_event> logged_events(const std::string& daemon_log) {
  static const std::regex re{R"(event=(\w+)(?: reason="[^"]*")? offender=(\S+)(?: pid=(\d+))?)"};
  std::vector<logged_event> out;
  std::istringstream in(slurp(daemon_log));
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    out.push_back({m[1], m[2], m[3].matched ? std::stoi(m[3]) : 0});
  }
  return out;
}

fault_daemon::fault_daemon()
    : home(dir_.file("home")),
      cfg(dir_.file("arbor.toml")),
      marker(dir_.path.string()),
      leftovers_{marker},
      guard_{home} {}

fault_daemon::~fault_daemon() = default;

fault_daemon::leftovers::~leftovers() {
  // Only after a failure: the daemon (stopped by the guard) took the rest.
  for (int pid : marked_processes(marker)) ::kill(pid, SIGKILL);
}

std::string fault_daemon::app_env() const {
  return "env = { FAULT_MARK = \"" + marker + "\" }\n";
}

void fault_daemon::up(const std::string& toml) {
  write_file(cfg, toml);
  auto r = run_arbor({"up", cfg}, home);
  INFO(r.err << slurp(home + "/daemon.log"));
  REQUIRE(r.rc == 0);
  std::ifstream in(home + "/arbor.pid");
  REQUIRE(in >> pid);
  REQUIRE(pid > 0);
}

cli_result fault_daemon::cli(const std::vector<std::string>& args, ms timeout) const {
  return run_arbor(args, home, timeout);
}

nlohmann::json fault_daemon::json(const std::vector<std::string>& args) const {
  return arbor_json(args, home);
}

nlohmann::json fault_daemon::instance(const std::string& id) const {
  auto st = json({"status"});
  for (auto& i : st["instances"])
    if (i["id"] == id) return i;
  return nullptr;
}

void fault_daemon::down_and_check_clean(ms timeout) {
  auto r = cli({"down"}, timeout);
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK(wait_gone(pid, 10s));
  std::vector<int> left;
  CHECK(wait_until([&] { return (left = marked_processes(marker)).empty(); }, 5s));
  INFO("left behind: " << left.size());
  CHECK(left.empty());
  CHECK(cli({"status"}).rc == 3);
}

} // namespace arbor::test
