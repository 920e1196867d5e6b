#include "kill_checks.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace arbor::test::kill {

namespace {

using slot = std::pair<std::string, int>; // (app, index)

std::map<slot, std::vector<const marked_process*>> by_slot(const home_processes& found) {
  std::map<slot, std::vector<const marked_process*>> out;
  for (auto& p : found.apps) out[{p.app, p.index}].push_back(&p);
  return out;
}

std::string list(const std::vector<const marked_process*>& ps) {
  std::string s;
  for (auto* p : ps) s += (s.empty() ? "" : "; ") + describe(*p);
  return s;
}

/// The configured instance count of `app` (-1: it should not run).
int configured(const expected_apps& want, const std::string& app) {
  if (auto i = want.stable.find(app); i != want.stable.end()) return i->second;
  if (auto i = want.storm.find(app); i != want.storm.end()) return i->second;
  return -1;
}

struct pid_lines {
  std::vector<unsigned long> seqs;
  unsigned long end = 0;
  bool ended = false;
};

/// Every numbered line of `app`'s stdout files, by pid; `garbled`: lines
/// that are neither "<pid> <seq>" nor "END <pid> <n>" after the prefix.
std::map<int, pid_lines> read_numbered(const std::string& logs_dir, const std::string& app,
                                       size_t& lines, std::vector<std::string>& garbled) {
  std::map<int, pid_lines> out;
  const std::string base = app + ".out.log";
  std::error_code ec;
  for (auto& f : std::filesystem::directory_iterator(logs_dir, ec)) {
    if (f.path().filename().string().rfind(base, 0) != 0) continue;
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) {
      auto bar = line.find(" | ");
      const char* s = line.c_str() + (bar == std::string::npos ? 0 : bar + 3);
      bool end = std::strncmp(s, "END ", 4) == 0;
      char* after = nullptr;
      long pid = std::strtol(end ? s + 4 : s, &after, 10);
      char* last = nullptr;
      unsigned long n = std::strtoul(after, &last, 10);
      if (pid <= 0 || after == last || *last != '\0') {
        if (garbled.size() < 3) garbled.push_back(f.path().filename().string() + ": " + line);
        continue;
      }
      auto& p = out[static_cast<int>(pid)];
      if (end) {
        p.ended = true;
        p.end = n;
      } else {
        p.seqs.push_back(n);
        ++lines;
      }
    }
  }
  return out;
}

/// Doubled and lost seqs of one pid, as one line (empty: none).
std::string seq_problem(int pid, pid_lines& p) {
  std::sort(p.seqs.begin(), p.seqs.end());
  unsigned long top = p.ended ? p.end : (p.seqs.empty() ? 0 : p.seqs.back());
  size_t doubled = 0, lost = 0;
  std::string where;
  unsigned long next = 1;
  for (size_t i = 0; i < p.seqs.size(); ++i) {
    auto s = p.seqs[i];
    if (i > 0 && s == p.seqs[i - 1]) {
      if (doubled++ == 0) where += " first doubled seq " + std::to_string(s) + ";";
      continue;
    }
    if (s > next) {
      if (lost == 0)
        where += " first lost seqs " + std::to_string(next) + ".." + std::to_string(s - 1) + ";";
      lost += s - next;
    }
    next = s + 1;
  }
  if (top >= next) {
    if (lost == 0) where += " lost tail " + std::to_string(next) + ".." + std::to_string(top) + ";";
    lost += top - next + 1;
  }
  if (p.ended && !p.seqs.empty() && p.seqs.back() > p.end) where += " lines past END;";
  if (doubled == 0 && lost == 0 && where.empty()) return {};
  return "lines of pid " + std::to_string(pid) + ": " + std::to_string(doubled) + " doubled, "
         + std::to_string(lost) + " lost of " + std::to_string(top) + ";" + where;
}

} // namespace

std::vector<std::string> process_problems(const home_processes& found, const expected_apps& want) {
  std::vector<std::string> out;
  auto slots = by_slot(found);
  for (auto& [s, ps] : slots) {
    int n = configured(want, s.first);
    std::string id = s.first + "#" + std::to_string(s.second);
    if (n < 0 || s.second < 0 || s.second >= n) {
      out.push_back("orphan: " + id + " should not run: " + list(ps));
      continue;
    }
    if (ps.size() > 1) {
      // Doubled only if two runs were alive together: all still are, after
      // the scan; a child of the slot's own process (LeakSanitizer's tracer
      // at an app's exit, a fork) is part of that run, not a second one.
      size_t together = 0;
      for (auto* p : ps) {
        bool own_child = false;
        for (auto* q : ps) own_child = own_child || q->pid == p->ppid;
        together += !own_child && still_alive(*p) ? 1 : 0;
      }
      if (together > 1)
        out.push_back("doubled: " + id + " has " + std::to_string(ps.size())
                      + " live processes: " + list(ps));
    }
    if (auto c = want.command_has.find(s.first); c != want.command_has.end())
      for (auto* p : ps)
        if (p->cmdline.find(c->second) == std::string::npos)
          out.push_back("stale command: " + id + " runs without '" + c->second
                        + "': " + describe(*p));
  }
  return out;
}

std::vector<std::string> arbor_view_problems(const nlohmann::json& status,
                                             const home_processes& found,
                                             const expected_apps& want) {
  std::vector<std::string> out;
  auto slots = by_slot(found);
  std::map<std::string, nlohmann::json> listed;
  for (auto& i : status.value("instances", nlohmann::json::array()))
    listed[i.value("id", "")] = i;
  for (auto& [app, n] : want.stable)
    for (int i = 0; i < n; ++i) {
      std::string id = app + "#" + std::to_string(i);
      auto it = slots.find({app, i});
      auto l = listed.find(id);
      std::string state = l == listed.end() ? "absent" : l->second.value("state", "?");
      int pid = l == listed.end() ? 0 : l->second.value("pid", 0);
      if (it == slots.end()) {
        std::string last = l == listed.end() ? "" : l->second.value("last_exit", "");
        out.push_back("missing: " + id + " has no live process; arbor shows it " + state
                      + " with pid " + std::to_string(pid) + ", last exit '" + last + "'");
        continue;
      }
      if (it->second.size() != 1) continue; // doubled: a process problem already
      if ((state != "running" && state != "ready") || pid != it->second.front()->pid)
        out.push_back("untracked: " + id + " live as " + describe(*it->second.front())
                      + ", arbor shows it " + state + " with pid " + std::to_string(pid));
    }
  return out;
}

std::vector<std::string> line_problems(const std::string& logs_dir, const std::string& app,
                                       const std::vector<int>& must_end, size_t& lines_read) {
  std::vector<std::string> out, garbled;
  auto pids = read_numbered(logs_dir, app, lines_read, garbled);
  for (auto& g : garbled) out.push_back("garbled line: " + g);
  for (auto& [pid, p] : pids)
    if (auto problem = seq_problem(pid, p); !problem.empty()) out.push_back(problem);
  for (int pid : must_end) {
    auto it = pids.find(pid);
    std::string who = "lines of pid " + std::to_string(pid);
    if (it == pids.end()) out.push_back(who + ": none in the log (all lost)");
    else if (!it->second.ended) out.push_back(who + ": no END line after its stop");
  }
  return out;
}

std::vector<int> ended_pids(const std::string& logs_dir, const std::string& app) {
  size_t lines = 0;
  std::vector<std::string> garbled;
  std::vector<int> out;
  for (auto& [pid, p] : read_numbered(logs_dir, app, lines, garbled))
    if (p.ended) out.push_back(pid);
  return out;
}

} // namespace arbor::test::kill
