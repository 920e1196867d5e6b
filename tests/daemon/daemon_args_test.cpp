// arbor-daemon's command line (src/daemon/daemon_args.hpp).

#include <catch2/catch.hpp>

#include "daemon/daemon_args.hpp"

using arbor::cli::parse_daemon_args;

TEST_CASE("daemon args: what the arbor CLI writes") {
  auto r = parse_daemon_args({"run", "/etc/arbor.toml", "--log-dir", "/var/log/arbor"});
  CHECK(r.foreground);
  CHECK_FALSE(r.help);
  CHECK(r.file == "/etc/arbor.toml");
  CHECK(r.log_dir == "/var/log/arbor");
  CHECK(r.attach);
  CHECK_FALSE(parse_daemon_args({"run", "/etc/arbor.toml", "--no-attach"}).attach);

  auto d = parse_daemon_args({"daemon", "/srv/a.toml"});
  CHECK_FALSE(d.foreground);
  CHECK(d.file == "/srv/a.toml");
  CHECK(d.log_dir.empty());
  CHECK(d.env.empty());
}

TEST_CASE("daemon args: --env selects an environment, run or daemon") {
  using Catch::Matchers::Contains;
  auto d = parse_daemon_args({"daemon", "/srv/a.toml", "--env", "production"});
  CHECK(d.file == "/srv/a.toml");
  CHECK(d.env == "production");
  auto r = parse_daemon_args({"run", "--env=staging", "x.toml", "--no-attach"});
  CHECK(r.env == "staging");
  CHECK(r.file == "x.toml");
  CHECK_THROWS_WITH(parse_daemon_args({"daemon", "a.toml", "--env"}), Contains("--env needs"));
  CHECK_THROWS_WITH(parse_daemon_args({"run", "--env="}), Contains("--env needs"));
}

TEST_CASE("daemon args: defaults, --log-dir=, options before the file, help") {
  auto r = parse_daemon_args({"run"});
  CHECK(r.file == "arbor.toml");
  CHECK(r.log_dir.empty());
  auto e = parse_daemon_args({"run", "--log-dir=/tmp/l", "x.toml"});
  CHECK(e.log_dir == "/tmp/l");
  CHECK(e.file == "x.toml");
  CHECK(parse_daemon_args({"run", "x.toml", "--help"}).help);
  CHECK(parse_daemon_args({"-h"}).help);
}

TEST_CASE("daemon args: mistakes are refused with what is wrong") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(parse_daemon_args({}), Contains("subcommand is required"));
  CHECK_THROWS_WITH(parse_daemon_args({"start"}), Contains("unknown subcommand 'start'"));
  CHECK_THROWS_WITH(parse_daemon_args({"daemon"}), Contains("needs the config file"));
  CHECK_THROWS_WITH(parse_daemon_args({"run", "--log-dir"}), Contains("--log-dir needs"));
  CHECK_THROWS_WITH(parse_daemon_args({"run", "--log-dir="}), Contains("--log-dir needs"));
  CHECK_THROWS_WITH(parse_daemon_args({"daemon", "a.toml", "--log-dir", "x"}),
                    Contains("unknown option '--log-dir' for daemon"));
  CHECK_THROWS_WITH(parse_daemon_args({"run", "a.toml", "b.toml"}),
                    Contains("unexpected argument 'b.toml'"));
  CHECK_THROWS_WITH(parse_daemon_args({"run", "--verbose"}), Contains("unknown option '--verbose'"));
}
