#include "kill_run.hpp"

#include <filesystem>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include "../core/cli_util.hpp"

namespace arbor::test::kill {

namespace {

long env_or(const char* name, long otherwise) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : otherwise;
}

/// "doubled: …" → "doubled"; per kind counts for the summary line.
std::string kinds(const std::vector<std::string>& violations) {
  std::map<std::string, int> n;
  for (auto& v : violations) ++n[v.substr(0, v.find(':'))];
  std::string s;
  for (auto& [k, c] : n) s += (s.empty() ? "" : ", ") + k + " " + std::to_string(c);
  return s;
}

} // namespace

kill_settings kill_settings::from_env(int trials) {
  kill_settings s;
  const char* seed = std::getenv("KILL_SEED");
  s.seed = seed != nullptr && *seed != '\0' ? std::strtoull(seed, nullptr, 10)
                                            : std::random_device{}();
  s.trials = static_cast<int>(env_or("KILL_TRIALS", trials));
  s.first_trial = static_cast<int>(env_or("KILL_FIRST_TRIAL", 0));
  s.settle = ms{env_or("KILL_SETTLE_MS", 8000)};
  s.down_every = static_cast<int>(env_or("KILL_DOWN_EVERY", 25));
  return s;
}

kill_run::kill_run(std::string scenario, kill_settings settings)
    : scenario_(std::move(scenario)), settings_(settings) {
  new_home();
}

kill_run::~kill_run() {
  kill_everything(home_); // only after a failure: a passing run ended with `down`
}

void kill_run::new_home() {
  home_ = dir_.file("home-" + std::to_string(homes_++));
}

std::mt19937_64 kill_run::rng(int trial) const {
  std::seed_seq seq{settings_.seed, static_cast<uint64_t>(trial),
                    static_cast<uint64_t>(std::hash<std::string>{}(scenario_))};
  return std::mt19937_64{seq};
}

ms kill_run::draw(std::mt19937_64& rng, ms max) {
  // Half the kills within the first 50 ms: where a spawn races its record.
  long top = std::bernoulli_distribution{0.5}(rng) ? std::min(50L, static_cast<long>(max.count()))
                                                   : static_cast<long>(max.count());
  return ms{std::uniform_int_distribution<long>{0, top}(rng)};
}

void kill_run::begin(int trial, const std::string& what, ms delay) {
  trial_ = trial;
  what_ = what + ", kill after " + std::to_string(delay.count()) + " ms";
}

void kill_run::violation(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  if (bad_trials_.empty() || bad_trials_.back() != trial_) bad_trials_.push_back(trial_);
  for (auto& p : problems) {
    std::printf("kill-harness VIOLATION scenario=%s seed=%llu trial=%d (%s): %s\n",
                scenario_.c_str(), static_cast<unsigned long long>(settings_.seed), trial_,
                what_.c_str(), p.c_str());
    violations_.push_back(p);
  }
  std::fflush(stdout);
  // KILL_KEEP=DIR: the home of a bad trial (daemon.log, keeper.log, journal) is kept there.
  if (const char* keep = std::getenv("KILL_KEEP")) {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto to = std::string{keep} + "/" + scenario_ + "-" + std::to_string(trial_);
    fs::create_directories(to, ec);
    for (auto& e : fs::directory_iterator(home_, ec))
      if (e.is_regular_file(ec)) fs::copy_file(e.path(), to / e.path().filename(), ec);
  }
}

bool kill_run::up(const std::string& cfg) {
  cfg_ = cfg;
  auto r = run_arbor({"up", "--yes", cfg}, home_, ms{60000}); // it switches files on purpose
  if (r.rc == 0) return true;
  violation({"up failed: exit " + std::to_string(r.rc) + ": " + r.err});
  return false;
}

void kill_run::kill_during(const std::vector<std::string>& args, ms delay) {
  std::thread op;
  if (!args.empty()) op = std::thread([&] { run_arbor(args, home_, ms{60000}); });
  // The random kill point: this wait is the fault injected, not a wait for
  // something to happen.
  std::this_thread::sleep_for(delay);
  int pid = kill_daemon(home_);
  if (op.joinable()) op.join();
  if (pid == 0) violation({"no daemon: none ran at the kill point"});
}

bool kill_run::settle(const expected_apps& want) {
  std::vector<std::string> problems;
  bool ok = eventually([&] {
    auto found = scan_home(home_);
    problems = process_problems(found, want);
    if (!problems.empty()) return false;
    auto st = run_arbor({"status", "--json"}, home_);
    if (st.rc != 0) {
      problems = {"status failed: exit " + std::to_string(st.rc) + ": " + st.err};
      return false;
    }
    auto status = nlohmann::json::parse(st.out, nullptr, false);
    if (!status.is_object()) {
      problems = {"status failed: not a JSON object: " + st.out};
      return false;
    }
    problems = arbor_view_problems(status, found, want);
    return problems.empty();
  }, settings_.settle);
  violation(problems);
  return ok;
}

bool kill_run::watch(const expected_apps& want, ms span) {
  expected_apps at_most_once{{}, want.storm, want.command_has};
  for (auto& [app, n] : want.stable) at_most_once.storm[app] = n;
  auto end = std::chrono::steady_clock::now() + span;
  while (std::chrono::steady_clock::now() < end) {
    auto problems = process_problems(scan_home(home_), at_most_once);
    if (!problems.empty()) {
      violation(problems);
      return false;
    }
    std::this_thread::sleep_for(ms{10}); // a sampling period: processes come and go
  }
  return true;
}

void kill_run::down_and_check() {
  auto r = run_arbor({"down"}, home_, ms{60000});
  if (r.rc != 0) violation({"down failed: exit " + std::to_string(r.rc) + ": " + r.err});
  home_processes left;
  if (!eventually([&] { return (left = scan_home(home_)).count() == 0; }, ms{5000})) {
    std::vector<std::string> problems;
    for (auto* set : {&left.apps, &left.others})
      for (auto& p : *set) problems.push_back("survived down: " + describe(p));
    violation(problems);
  }
  kill_everything(home_);
}

void kill_run::print_summary(long long seconds) const {
  std::string bad;
  for (int k : bad_trials_) bad += (bad.empty() ? "" : ",") + std::to_string(k);
  if (!bad.empty()) bad = " (trials " + bad + "; " + kinds(violations_) + ")";
  const auto seed = static_cast<unsigned long long>(settings_.seed);
  std::printf("kill-harness scenario=%s trials=%d bad-trials=%zu violations=%zu%s seed=%llu "
              "seconds=%lld  replay: SEED=%llu FIRST_TRIAL=%d TRIALS=%d SCENARIOS=%s "
              "bench/kill_harness.sh\n",
              scenario_.c_str(), settings_.trials, bad_trials_.size(), violations_.size(),
              bad.c_str(), seed, seconds, seed, settings_.first_trial, settings_.trials,
              scenario_.c_str());
  std::fflush(stdout);
}

std::vector<std::string> kill_run::run(const std::string& first_cfg,
                                       const std::function<void(int, std::mt19937_64&)>& trial) {
  auto t0 = std::chrono::steady_clock::now();
  const int first = settings_.first_trial, last = first + settings_.trials;
  trial_ = first;
  what_ = "first up";
  up(first_cfg);
  for (int k = first; k < last; ++k) {
    size_t before = violations_.size();
    auto random = rng(k);
    trial(k, random);
    bool bad = violations_.size() > before;
    if (bad || (settings_.down_every > 0 && (k + 1 - first) % settings_.down_every == 0)) {
      what_ += ", then down";
      down_and_check();
      new_home();
      up(cfg_);
    }
  }
  what_ = "down at the end";
  down_and_check();
  print_summary(std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::steady_clock::now() - t0).count());
  return violations_;
}

} // namespace arbor::test::kill
