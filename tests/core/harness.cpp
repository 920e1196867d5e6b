#include "harness.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/loader.hpp"

namespace arbor::test {

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "arbor-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::string child_args(std::initializer_list<std::string> args) {
  std::string s = "[\"" ARBOR_TEST_CHILD "\"";
  for (auto& a : args) s += ", \"" + a + "\"";
  return s + "]";
}

harness::harness(const std::string& toml, std::chrono::milliseconds sample_interval,
                 bool log_events) {
  auto res = config::load_string(toml, dir.file("test.toml"), dir.path.string());
  if (!res.ok()) {
    for (auto& e : res.errors) UNSCOPED_INFO(e.to_string());
    FAIL("test config does not load");
  }
  tree_options opts;
  opts.log_dir = dir.file("logs");
  opts.sample_interval = sample_interval;
  opts.log_events = log_events;
  opts.runtime_dir = dir.file("run");
  tree = std::make_unique<supervision_tree>(sys, std::move(*res.tree), std::move(opts));
  bool ok = false;
  self->request(tree->events(), 5s, subscribe_atom::value)
    .receive([&](bool b) { ok = b; }, [&](caf::error&) {});
  REQUIRE(ok);
}

harness::~harness() {
  tree.reset();
}

bool harness::pull(std::chrono::steady_clock::time_point deadline) {
  auto left = deadline - std::chrono::steady_clock::now();
  if (left <= 0s) return false;
  bool got = false;
  self->receive([&](event& e) {
                  history_.push_back(e);
                  pending_.push_back(std::move(e));
                  got = true;
                },
                caf::after(std::chrono::duration_cast<std::chrono::milliseconds>(left))
                  >> [] {});
  return got;
}

event harness::wait(const std::function<bool(const event&)>& pred,
                    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto i = pending_.begin(); i != pending_.end(); ++i) {
      if (pred(*i)) {
        auto e = std::move(*i);
        pending_.erase(i);
        return e;
      }
    }
    if (!pull(deadline)) {
      std::ostringstream os;
      for (auto& e : history_)
        os << to_string(e.what) << " " << e.offender << " " << e.reason << "\n";
      INFO("events so far:\n" << os.str());
      FAIL("timed out waiting for an event");
    }
  }
}

event harness::wait(event_kind what, const std::string& who,
                    std::chrono::milliseconds timeout) {
  return wait(
    [&](const event& e) { return e.what == what && e.offender.compare(0, who.size(), who) == 0; },
    timeout);
}

size_t harness::count(event_kind what, const std::string& who) const {
  size_t n = 0;
  for (auto& e : history_)
    if (e.what == what && e.offender.compare(0, who.size(), who) == 0) ++n;
  return n;
}

instance_status harness::instance(const std::string& id) {
  auto st = tree->status();
  REQUIRE(st);
  std::function<const instance_status*(const node_status&)> find =
    [&](const node_status& n) -> const instance_status* {
    for (auto& i : n.instances)
      if (i.id == id) return &i;
    for (auto& c : n.children)
      if (auto p = find(c)) return p;
    return nullptr;
  };
  auto p = find(*st);
  REQUIRE(p != nullptr);
  return *p;
}

namespace {

size_t tasks_of(int pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

} // namespace

bool wait_gone(int pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!stat || !std::getline(stat, line)) return true;
    auto close = line.rfind(')');
    // A zombie leader may still have threads running (and its descriptors
    // open): gone once its task list holds the leader alone.
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z'
        && tasks_of(pid) <= 1)
      return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms); // the process is not ours: nothing to wait on
  }
}

std::string wait_file(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream in(path);
    std::string s;
    if (in && std::getline(in, s) && !s.empty()) return s;
    if (std::chrono::steady_clock::now() > deadline) return {};
    std::this_thread::sleep_for(5ms); // written by a grandchild we cannot wait on
  }
}

} // namespace arbor::test
