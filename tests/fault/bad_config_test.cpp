// The config file turns into garbage under a running daemon, then `apply`.
// core/daemon_test covers one type error (`args = 5`). Here: a truncated
// file, binary garbage, a directory in the file's place, and valid TOML with
// several semantic errors. Each is rejected with exit code 2 and
// file:line:col (or the file and why it cannot be read), every pid is
// unchanged, the daemon answers, and the running spec is still the old one.

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <random>
#include <regex>

#include "fault_util.hpp"

using namespace arbor::test;

namespace {

std::string good_config(const fault_daemon& fd) {
  return "[web.api]\nargs = " + child_args({"sleep"}) + "\ninstances = 2\n" + fd.app_env()
         + "[worker]\nargs = " + child_args({"sleep"}) + "\n" + fd.app_env();
}

/// `apply` (of the file the daemon runs, or `file`) is refused with exit
/// code 2, names `where` on stderr, and changes nothing.
void check_rejected(const fault_daemon& fd, const std::map<std::string, int>& pids,
                    const std::vector<std::string>& where, const std::string& file = "") {
  std::vector<std::string> args{"apply"};
  if (!file.empty()) args.push_back(file);
  auto r = fd.cli(args);
  INFO("apply: rc " << r.rc << "\n" << r.out << r.err);
  CHECK(r.rc == 2);
  for (auto& w : where) CHECK(r.err.find(w) != std::string::npos);
  CHECK(pids_of(fd.home) == pids);
}

} // namespace

TEST_CASE("fault: garbage configs are rejected by apply with file:line:col, nothing changes") {
  fault_daemon fd;
  const auto good = good_config(fd);
  fd.up(good);
  const auto pids = pids_of(fd.home);
  REQUIRE(pids.size() == 3);
  for (auto& [id, pid] : pids) REQUIRE(pid > 0);

  SECTION("truncated in the middle of a string") {
    write_file(fd.cfg, good.substr(0, good.find("FAULT_MARK") + 16));
    check_rejected(fd, pids, {fd.cfg + ":4:"});
  }
  SECTION("cut inside an array, never closed") {
    write_file(fd.cfg, good.substr(0, good.find("sleep") + 2));
    check_rejected(fd, pids, {fd.cfg + ":2:"});
  }
  SECTION("truncated to nothing: not an order to stop everything") {
    write_file(fd.cfg, "");
    check_rejected(fd, pids, {fd.cfg, "no apps defined"});
  }
  SECTION("binary garbage") {
    std::mt19937 gen(42);
    std::string junk(4096, '\0');
    for (auto& c : junk) c = static_cast<char>(gen() & 0xff);
    write_file(fd.cfg, junk);
    auto r = fd.cli({"apply"});
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(std::regex_search(r.err, std::regex{std::regex_replace(
                                     fd.cfg, std::regex{R"([.^$|()\[\]{}*+?\\])"}, R"(\$&)")
                                   + ":[0-9]+:[0-9]+: "}));
    CHECK(pids_of(fd.home) == pids);
  }
  SECTION("a directory where the file was") {
    std::filesystem::remove(fd.cfg);
    std::filesystem::create_directory(fd.cfg);
    check_rejected(fd, pids, {fd.cfg, "Is a directory"});
  }
  SECTION("the file is gone") {
    std::filesystem::remove(fd.cfg);
    check_rejected(fd, pids, {fd.cfg, "No such file"});
  }
  SECTION("valid TOML, semantically broken: every error with its position") {
    write_file(fd.cfg, "[web.api]\nargs = " + child_args({"sleep"}) + "\ninstances = -1\n"
                         + "[worker]\nargs = " + child_args({"sleep"})
                         + "\nrestat = \"always\"\nkill_signal = \"SIGNOPE\"\n"
                         + "cron_restart = \"61 * * * *\"\n"
                         + "[loop.a]\ncommand = \"true\"\ndepends_on = [\"loop.b\"]\n"
                         + "[loop.b]\ncommand = \"true\"\ndepends_on = [\"loop.a\"]\n");
    check_rejected(fd, pids,
                   {fd.cfg + ":3:", fd.cfg + ":6:", "did you mean 'restart'", fd.cfg + ":7:",
                    fd.cfg + ":8:", "cycle"});
  }
  SECTION("an explicit file with garbage, the daemon's own file untouched") {
    auto other = fd.file("other.toml");
    write_file(other, "[web.api\nargs = 1\n");
    check_rejected(fd, pids, {other + ":1:"}, other);
  }

  // The daemon answers and still runs the old spec: applying the good file
  // again changes nothing.
  REQUIRE(fd.cli({"status"}).rc == 0);
  std::error_code ec;
  std::filesystem::remove_all(fd.cfg, ec);
  write_file(fd.cfg, good);
  auto again = fd.json({"apply", fd.cfg});
  CHECK(again["added"].empty());
  CHECK(again["removed"].empty());
  CHECK(again["changed"].empty());
  CHECK(again["scaled"].empty());
  CHECK(again["unchanged"].size() == 2);
  CHECK(pids_of(fd.home) == pids);
  fd.down_and_check_clean();
}
