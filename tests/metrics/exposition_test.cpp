#include <catch2/catch.hpp>

#include <limits>

#include "metrics/exposition.hpp"

using namespace arbor;
using namespace arbor::metrics;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

instance_status inst(const std::string& app, uint32_t index, proc_state s) {
  instance_status x;
  x.id = app + "#" + std::to_string(index);
  x.index = index;
  x.state = s;
  return x;
}

node_status app_node(const std::string& name, std::vector<instance_status> xs) {
  node_status n;
  n.name = name;
  n.state = "running";
  n.instances = std::move(xs);
  return n;
}

node_status group_node(const std::string& name, std::vector<node_status> kids,
                       const std::string& state = "running") {
  node_status n;
  n.name = name;
  n.is_group = true;
  n.state = state;
  n.children = std::move(kids);
  return n;
}

} // namespace

TEST_CASE("exposition: HELP and TYPE once per family, then its samples") {
  family up{"arbor_instance_up", "1 when up.", metric_type::gauge, {}};
  up.samples.push_back({{{"app", "web"}, {"index", "0"}}, 1});
  up.samples.push_back({{{"app", "web"}, {"index", "1"}}, 0});
  family restarts{"arbor_instance_restarts_total", "Restarts.", metric_type::counter, {}};
  restarts.samples.push_back({{{"app", "web"}, {"index", "0"}, {"reason", "crash"}}, 3});
  family plain{"arbor_daemon_open_fds", "Fds.", metric_type::gauge, {}};
  plain.samples.push_back({{}, 12});

  auto text = render({up, restarts, plain});
  CHECK(text
        == "# HELP arbor_daemon_open_fds Fds.\n"
           "# TYPE arbor_daemon_open_fds gauge\n"
           "arbor_daemon_open_fds 12\n"
           "# HELP arbor_instance_restarts_total Restarts.\n"
           "# TYPE arbor_instance_restarts_total counter\n"
           "arbor_instance_restarts_total{app=\"web\",index=\"0\",reason=\"crash\"} 3\n"
           "# HELP arbor_instance_up 1 when up.\n"
           "# TYPE arbor_instance_up gauge\n"
           "arbor_instance_up{app=\"web\",index=\"0\"} 1\n"
           "arbor_instance_up{app=\"web\",index=\"1\"} 0\n");
}

TEST_CASE("exposition: label values escape backslash, quote and newline, HELP escapes "
          "backslash and newline") {
  CHECK(escape_label_value(R"(a\b)") == R"(a\\b)");
  CHECK(escape_label_value(R"(say "hi")") == R"(say \"hi\")");
  CHECK(escape_label_value("two\nlines") == R"(two\nlines)");
  CHECK(escape_label_value("plain.name#0") == "plain.name#0");
  CHECK(escape_help("a \\ b\nc \"q\"") == "a \\\\ b\\nc \"q\"");

  family f{"x", "help with\nnewline", metric_type::gauge, {}};
  f.samples.push_back({{{"path", "C:\\dir \"x\"\n"}}, 1});
  auto text = render({f});
  CHECK(has_line(text, "# HELP x help with\\nnewline"));
  CHECK(has_line(text, R"(x{path="C:\\dir \"x\"\n"} 1)"));
}

TEST_CASE("exposition: values print as integers when whole, else shortest round-trip") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(42) == "42");
  CHECK(format_value(-3) == "-3");
  CHECK(format_value(1572864) == "1572864");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(1.5) == "1.5");
  CHECK(std::stod(format_value(0.1 + 0.2)) == 0.1 + 0.2);
  CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("exposition: ordering is deterministic whatever the input order") {
  CHECK(natural_less("2", "10"));
  CHECK_FALSE(natural_less("10", "2"));
  CHECK(natural_less("web#2", "web#10"));
  CHECK(natural_less("a", "b"));
  CHECK(natural_less("web", "web.api"));
  CHECK_FALSE(natural_less("same", "same"));

  family a{"b_family", "B.", metric_type::gauge, {}};
  a.samples.push_back({{{"app", "web"}, {"index", "10"}}, 1});
  a.samples.push_back({{{"app", "db"}, {"index", "0"}}, 1});
  a.samples.push_back({{{"app", "web"}, {"index", "2"}}, 1});
  family b{"a_family", "A.", metric_type::gauge, {}};
  b.samples.push_back({{}, 7});
  auto one = render({a, b});
  auto two = render({b, a});
  CHECK(one == two);
  auto db = one.find("app=\"db\""), w2 = one.find("index=\"2\""), w10 = one.find("index=\"10\"");
  CHECK(one.find("a_family") < one.find("b_family"));
  CHECK(db < w2);
  CHECK(w2 < w10);
}

TEST_CASE("exposition: two families of one name are merged under one HELP/TYPE") {
  family a{"m", "first.", metric_type::gauge, {}};
  a.samples.push_back({{{"k", "1"}}, 1});
  family b{"m", "second.", metric_type::gauge, {}};
  b.samples.push_back({{{"k", "0"}}, 0});
  auto text = render({a, b});
  CHECK(count_of(text, "# HELP m ") == 1);
  CHECK(count_of(text, "# TYPE m ") == 1);
  CHECK(has_line(text, "# HELP m first."));
  CHECK(text.find("m{k=\"0\"} 0") < text.find("m{k=\"1\"} 1"));
}

TEST_CASE("restart counter: immediate, delayed (backoff) and commanded restarts") {
  restart_counter c;
  using k = event_kind;
  using rc = restart_cause;
  auto crash = static_cast<size_t>(rc::crash);
  auto manual = static_cast<size_t>(rc::manual);
  auto sibling = static_cast<size_t>(rc::sibling);

  // A stable run restarted at once by its process actor.
  c.on_event(k::child_started, "web.api#0", rc::none);
  c.on_event(k::child_exited, "web.api#0", rc::none);
  c.on_event(k::restarting, "web.api#0", rc::crash);
  c.on_event(k::child_started, "web.api#0", rc::none);
  CHECK(c.all().at("web.api#0")[crash] == 1);

  // A short run: backoff, then the timer's spawn reports only child_started.
  c.on_event(k::child_exited, "web.api#0", rc::none);
  c.on_event(k::backoff, "web.api#0", rc::crash);
  CHECK(c.all().at("web.api#0")[crash] == 1); // not yet
  c.on_event(k::child_started, "web.api#0", rc::none);
  CHECK(c.all().at("web.api#0")[crash] == 2);
  c.on_event(k::child_started, "web.api#0", rc::none); // no backoff pending: nothing
  CHECK(c.all().at("web.api#0")[crash] == 2);

  // A backoff cut short by a stop is no restart.
  c.on_event(k::backoff, "web.api#1", rc::crash);
  c.on_event(k::stopped, "web.api#1", rc::none);
  c.on_event(k::child_started, "web.api#1", rc::none);
  CHECK(c.all().count("web.api#1") == 0);

  // A manual start during a backoff counts once, as manual.
  c.on_event(k::backoff, "web.api#1", rc::crash);
  c.on_event(k::restarting, "web.api#1", rc::manual);
  c.on_event(k::child_started, "web.api#1", rc::none);
  CHECK(c.all().at("web.api#1")[manual] == 1);
  CHECK(c.all().at("web.api#1")[crash] == 0);

  // A group's own restarting (offender = a child's name) is not counted; the
  // instances it restarts report theirs.
  c.on_event(k::restarting, "web.db", rc::escalation);
  c.on_event(k::restarting_siblings, "web.db", rc::sibling);
  c.on_event(k::restarting, "web.api#0", rc::sibling);
  CHECK(c.all().count("web.db") == 0);
  CHECK(c.all().at("web.api#0")[sibling] == 1);

  // A new instance's first start is not a restart.
  c.on_event(k::restarting, "web.api#2", rc::scaled);
  CHECK(c.all().count("web.api#2") == 0);
}

TEST_CASE("restart counter: counts by the event's cause, never by its reason text") {
  // The counter sees no text at all: a cron restart whose reason reads like
  // a crash, or like nothing known, is a cron restart.
  restart_counter c;
  c.on_event(event_kind::restarting, "web#0", restart_cause::cron);
  c.on_event(event_kind::backoff, "web#1", restart_cause::memory_limit);
  c.on_event(event_kind::child_started, "web#1", restart_cause::none);
  auto cron = static_cast<size_t>(restart_cause::cron);
  auto memory = static_cast<size_t>(restart_cause::memory_limit);
  CHECK(c.all().at("web#0")[cron] == 1);
  CHECK(c.all().at("web#1")[memory] == 1);

  scrape_input in;
  in.restarts = c.all();
  auto text = render(build_families(in));
  INFO(text);
  CHECK(has_line(text,
                 "arbor_instance_restarts_total{app=\"web\",index=\"0\",reason=\"cron\"} 1"));
  CHECK(has_line(text, "arbor_instance_restarts_total{app=\"web\",index=\"1\","
                       "reason=\"memory_limit\"} 1"));
  CHECK(has_line(text,
                 "arbor_instance_restarts_total{app=\"web\",index=\"0\",reason=\"crash\"} 0"));

  // A cause that is no restart is never counted.
  c.on_event(event_kind::restarting, "web#2", restart_cause::none);
  CHECK(c.all().count("web#2") == 0);
}

TEST_CASE("families: per instance, per group, daemon, unknown samples left out") {
  auto running = inst("web.api", 0, proc_state::running);
  running.pid = 100;
  running.uptime_ms = 4500;
  running.memory_bytes = 1572864;
  running.cpu_percent = 25;
  auto fresh = inst("web.api", 1, proc_state::running);
  fresh.pid = 101; // memory and cpu not sampled yet
  auto down = inst("jobs.migrate", 0, proc_state::stopped);
  auto tree = group_node("", {group_node("web", {app_node("web.api", {running, fresh})}),
                              group_node("jobs", {app_node("jobs.migrate", {down})}, "failed")});

  scrape_input in;
  in.tree = tree;
  restart_counter::counts c{};
  c[static_cast<size_t>(restart_cause::crash)] = 2;
  in.restarts = std::map<std::string, restart_counter::counts>{{"web.api#0", c}};
  in.daemon = {12.5, 8400000, 9, "0.1.0"};
  in.scrape_duration_seconds = 0.002;
  auto text = render(build_families(in));
  INFO(text);

  CHECK(has_line(text, "# TYPE arbor_instance_up gauge"));
  CHECK(has_line(text, "arbor_instance_up{app=\"web.api\",index=\"0\"} 1"));
  CHECK(has_line(text, "arbor_instance_up{app=\"jobs.migrate\",index=\"0\"} 0"));
  CHECK(has_line(text, "arbor_instance_ready{app=\"web.api\",index=\"0\"} 0"));
  CHECK(has_line(text, "arbor_instance_state{app=\"web.api\",index=\"0\",state=\"running\"} 1"));
  CHECK(has_line(text, "arbor_instance_state{app=\"web.api\",index=\"0\",state=\"failed\"} 0"));
  CHECK(count_of(text, "arbor_instance_state{") == 3 * 7);
  CHECK(has_line(text, "# TYPE arbor_instance_restarts_total counter"));
  CHECK(has_line(text,
                 "arbor_instance_restarts_total{app=\"web.api\",index=\"0\",reason=\"crash\"} 2"));
  CHECK(has_line(text,
                 "arbor_instance_restarts_total{app=\"web.api\",index=\"1\",reason=\"crash\"} 0"));
  CHECK(count_of(text, "arbor_instance_restarts_total{") == 3 * std::size(counted_causes));
  CHECK(has_line(text, "arbor_instance_memory_bytes{app=\"web.api\",index=\"0\"} 1572864"));
  CHECK(count_of(text, "arbor_instance_memory_bytes{") == 1);
  CHECK(has_line(text, "arbor_instance_cpu_ratio{app=\"web.api\",index=\"0\"} 0.25"));
  CHECK(count_of(text, "arbor_instance_cpu_ratio{") == 1);
  CHECK(has_line(text, "arbor_instance_uptime_seconds{app=\"web.api\",index=\"0\"} 4.5"));
  CHECK(count_of(text, "arbor_instance_uptime_seconds{") == 2); // not the stopped one
  CHECK(has_line(text, "arbor_group_failed{group=\"\"} 0"));
  CHECK(has_line(text, "arbor_group_failed{group=\"jobs\"} 1"));
  CHECK(has_line(text, "arbor_group_failed{group=\"web\"} 0"));
  CHECK(has_line(text, "arbor_tree_status_success 1"));
  CHECK(has_line(text, "arbor_daemon_uptime_seconds 12.5"));
  CHECK(has_line(text, "arbor_daemon_resident_memory_bytes 8400000"));
  CHECK(has_line(text, "arbor_daemon_open_fds 9"));
  CHECK(has_line(text, "arbor_build_info{version=\"0.1.0\"} 1"));
  CHECK(has_line(text, "arbor_scrape_duration_seconds 0.002"));
  // Every family once, each sample line after its TYPE.
  CHECK(count_of(text, "# TYPE ") == count_of(text, "# HELP "));
  CHECK(count_of(text, "# TYPE arbor_instance_up ") == 1);
}

TEST_CASE("families: without the tree's status, counters come from the counter alone") {
  scrape_input in;
  restart_counter::counts c{};
  c[static_cast<size_t>(restart_cause::manual)] = 1;
  in.restarts = std::map<std::string, restart_counter::counts>{{"web.api#3", c}};
  auto text = render(build_families(in));
  INFO(text);
  CHECK(has_line(text, "arbor_tree_status_success 0"));
  CHECK(has_line(text,
                 "arbor_instance_restarts_total{app=\"web.api\",index=\"3\",reason=\"manual\"} 1"));
  CHECK(count_of(text, "arbor_instance_up{") == 0);
  CHECK(has_line(text, "# TYPE arbor_instance_up gauge")); // the family is still described
  CHECK(count_of(text, "arbor_daemon_uptime_seconds") == 0); // unknown: left out
}

TEST_CASE("families: without the counter, no restart samples (never a fake reset to 0)") {
  scrape_input in;
  in.tree = group_node("", {app_node("solo", {inst("solo", 0, proc_state::running)})});
  auto text = render(build_families(in));
  CHECK(count_of(text, "arbor_instance_restarts_total{") == 0);
  CHECK(has_line(text, "arbor_instance_up{app=\"solo\",index=\"0\"} 1"));
}

TEST_CASE("listen: host:port, [v6]:port, a port alone binds the loopback") {
  std::string err;
  auto a = parse_listen("127.0.0.1:9100", err);
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9100);
  a = parse_listen("0.0.0.0:9100", err); // written explicitly: used as is
  REQUIRE(a);
  CHECK(a->host == "0.0.0.0");
  a = parse_listen(":9100", err);
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  a = parse_listen("9100", err);
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9100);
  a = parse_listen("[::1]:9100", err);
  REQUIRE(a);
  CHECK(a->host == "::1");
  a = parse_listen("localhost:0", err);
  REQUIRE(a);
  CHECK(a->port == 0);

  for (auto bad : {"", "host:", "host:http", "host:65536", "::1:9100", "[::1]9100", "[::1"}) {
    INFO(bad);
    err.clear();
    CHECK_FALSE(parse_listen(bad, err));
    CHECK_FALSE(err.empty());
  }

  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("127.1.2.3"));
  CHECK(is_loopback("::1"));
  CHECK(is_loopback("localhost"));
  CHECK_FALSE(is_loopback("0.0.0.0"));
  CHECK_FALSE(is_loopback("10.0.0.1"));
}
