// `user`, `group`, `umask`, `rlimits`, `nice`, `oom_score_adj` in a config:
// their forms, the errors `arbor check` reports at the value's position,
// what `apply` compares, and what a plan prepares for the child.

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include "config/app_fields.hpp"
#include "config/loader.hpp"
#include "os/credentials.hpp"

using arbor::app_spec;
using arbor::rlimit_spec;
using arbor::config::load_string;
using Catch::Contains;
using Catch::Equals;

namespace {

arbor::config::load_result load(const std::string& keys) {
  return load_string("[web]\ncommand = \"x\"\n" + keys, "t.toml", "/srv/app");
}

std::string one_error(const std::string& keys) {
  auto r = load(keys);
  std::string all;
  for (const auto& d : r.errors) all += d.to_string() + "\n";
  INFO(all);
  REQUIRE(r.errors.size() == 1);
  return r.errors.front().to_string();
}

} // namespace

TEST_CASE("identity config: every key read into the spec") {
  auto r = load("user = \"root\"\ngroup = 0\numask = \"027\"\nnice = 5\noom_score_adj = -500\n"
                "rlimits = { nofile = 4096, core = \"unlimited\", memlock = \"64M\", "
                "stack = { soft = \"8M\", hard = \"unlimited\" } }\n");
  REQUIRE(r.ok());
  const auto& a = r.tree->root.children[0].app;
  CHECK(a.user == "root");
  CHECK(a.group == "0");
  CHECK(a.umask == 027);
  CHECK(a.nice == 5);
  CHECK(a.oom_score_adj == -500);
  REQUIRE(a.rlimits.size() == 4);
  // In file order (toml++ keeps keys sorted; the reader restores the order).
  CHECK(a.rlimits[0] == rlimit_spec{"nofile", 4096, 4096});
  CHECK(a.rlimits[1] == rlimit_spec{"core", rlimit_spec::unlimited, rlimit_spec::unlimited});
  CHECK(a.rlimits[2] == rlimit_spec{"memlock", 64ull << 20, 64ull << 20});
  CHECK(a.rlimits[3] == rlimit_spec{"stack", 8ull << 20, rlimit_spec::unlimited});
  CHECK(load("umask = \"0007\"\n").tree->root.children[0].app.umask == 07);
  CHECK(arbor::config::umask_text(027) == "0027");
}

TEST_CASE("identity config: bad values are reported where they are written") {
  CHECK_THAT(one_error("user = \"no-such-user-here\"\n"),
             Equals("t.toml:3:8: 'user': no such user 'no-such-user-here'"));
  CHECK_THAT(one_error("group = \"no-such-group-here\"\n"),
             Equals("t.toml:3:9: 'group': no such group 'no-such-group-here'"));
  CHECK_THAT(one_error("nice = 40\n"), Equals("t.toml:3:8: 'nice' must be between -20 and 19, got 40"));
  CHECK_THAT(one_error("oom_score_adj = -1001\n"),
             Contains("'oom_score_adj' must be between -1000 and 1000, got -1001"));
  CHECK_THAT(one_error("umask = \"999\"\n"),
             Equals("t.toml:3:9: 'umask' must be an octal mode in a string like \"027\" or "
                    "\"0027\", got '999'"));
  CHECK_THAT(one_error("umask = 22\n"),
             Equals("t.toml:3:9: 'umask' must be an octal mode in a string like \"027\" or "
                    "\"0027\", got integer"));
  CHECK_THAT(one_error("rlimits = { bogus = 1 }\n"),
             Equals("t.toml:3:13: unknown limit 'bogus' in 'rlimits' of app 'web' (one of: cpu "
                    "fsize data stack core rss nproc nofile memlock as locks sigpending msgqueue "
                    "nice rtprio rttime)"));
  CHECK_THAT(one_error("rlimits = { nofil = 1 }\n"), Contains("(did you mean 'nofile'?)"));
  CHECK_THAT(one_error("rlimits = { nofile = \"64M\" }\n"),
             Equals("t.toml:3:22: 'rlimits.nofile' must be a number or \"unlimited\", got '64M'"));
  CHECK_THAT(one_error("rlimits = { nofile = { soft = 10 } }\n"),
             Contains("'rlimits.nofile' needs both 'soft' and 'hard'"));
  CHECK_THAT(one_error("rlimits = { nofile = { soft = 10, hard = 5 } }\n"),
             Contains("'rlimits.nofile': the soft limit 10 is above the hard limit 5"));
  CHECK_THAT(one_error("rlimits = 5\n"), Contains("'rlimits' must be a table like { nofile = 65536 }"));
  CHECK_THAT(one_error("user = \"\"\n"), Contains("'user' must be a name or a numeric id, got an empty string"));
  CHECK_THAT(one_error("uid = \"www-data\"\n"),
             Equals("t.toml:3:1: unknown key 'uid' in app 'web' (PM2's 'uid': user = \"www-data\" (a "
                    "name or a uid; another user needs arbor to run as root))"));
}

TEST_CASE("identity config: arbor's own user and group are allowed, others need root") {
  const auto me = std::to_string(::geteuid());
  CHECK(load("user = " + me + "\ngroup = " + std::to_string(::getegid()) + "\n").ok());
  auto other = load("user = \"nobody\"\n");
  rlimit own{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
  REQUIRE(own.rlim_max != RLIM_INFINITY);
  const auto above = std::to_string(own.rlim_max + 1);
  auto raised = load("rlimits = { nofile = " + above + " }\n");
  if (::geteuid() == 0) { // root may run as anyone and raise a hard limit past its own
    CHECK(other.ok());
    CHECK(raised.ok());
  } else {
    REQUIRE(other.errors.size() == 1);
    CHECK_THAT(other.errors[0].to_string(),
               Equals("t.toml:3:8: user = \"nobody\": arbor runs as uid " + me
                      + ", not root; only root can run an app as another user"));
    REQUIRE(raised.errors.size() == 1);
    CHECK_THAT(raised.errors[0].to_string(),
               Equals("t.toml:3:22: 'rlimits.nofile': " + above + " is above arbor's own hard limit "
                      + std::to_string(own.rlim_max) + "; only root can raise it"));
  }
}

TEST_CASE("identity config: a changed key is a changed spec (apply restarts the app)") {
  app_spec a, b;
  for (auto set : {+[](app_spec& x) { x.user = "nobody"; }, +[](app_spec& x) { x.group = "nogroup"; },
                   +[](app_spec& x) { x.umask = 077; }, +[](app_spec& x) { x.nice = 1; },
                   +[](app_spec& x) { x.oom_score_adj = 10; },
                   +[](app_spec& x) { x.rlimits = {{"nofile", 10, 10}}; }}) {
    b = a;
    set(b);
    CHECK(arbor::config::changed_keys(a, b).size() == 1);
  }
}

TEST_CASE("identity config: a plan prepares ids, groups, limits and the user's environment") {
  app_spec a;
  a.name = "web";
  std::string error;
  auto none = arbor::os::prepare_credentials(a, error);
  REQUIRE(none);
  CHECK_FALSE(none->creds);

  a.umask = 027;
  a.nice = 3;
  a.oom_score_adj = -17;
  a.rlimits = {{"nofile", 100, 200}};
  a.env = {{"HOME", "/srv"}};
  auto uid = std::to_string(::geteuid());
  a.user = uid;
  auto p = arbor::os::prepare_credentials(a, error);
  INFO(error);
  REQUIRE(p);
  REQUIRE(p->creds);
  const auto& c = *p->creds;
  REQUIRE(c.limits.size() == 1);
  CHECK(c.limits[0].resource == RLIMIT_NOFILE);
  CHECK(c.limits[0].soft == 100);
  CHECK(c.limits[0].hard == 200);
  CHECK(c.set_umask);
  CHECK(c.umask == 027);
  CHECK(c.set_nice);
  CHECK(c.nice == 3);
  CHECK(std::string(c.oom_text, c.oom_len) == "-17");
  CHECK(c.uid == ::geteuid());
  CHECK(c.set_ids == (::geteuid() == 0));
  CHECK(std::find(c.groups.begin(), c.groups.end(), c.gid) != c.groups.end());
  // HOME is the app's own; USER and LOGNAME come from the passwd entry.
  for (const auto& kv : p->env) CHECK(kv.rfind("HOME=", 0) != 0);
  if (::geteuid() == 0) {
    CHECK(std::find(p->env.begin(), p->env.end(), "USER=root") != p->env.end());
    CHECK(std::find(p->env.begin(), p->env.end(), "LOGNAME=root") != p->env.end());
  }
  CHECK_THAT(arbor::os::credential_failure(c, arbor::os::credential_step::rlimit, 0, EPERM),
             Equals("cannot set rlimit nofile: Operation not permitted"));

  a.user = "no-such-user-here";
  CHECK_FALSE(arbor::os::prepare_credentials(a, error));
  CHECK(error == "'user': no such user 'no-such-user-here'");
}
