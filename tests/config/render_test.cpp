#include <catch2/catch.hpp>

#include "config/loader.hpp"

using arbor::config::load_string;
using arbor::config::render_tree;

TEST_CASE("render_tree: groups and apps in start order with box drawing") {
  auto r = load_string(R"(
[web.api]
command = "node server.js"
instances = 2
[web.worker]
command = "node worker.js"
restart = "always"
max_memory = "256M"
cron_restart = "0 */6 * * *"
[web]
strategy = "one_for_all"
intensity = 3
[migrate]
command = "./migrate.sh"
restart = "never"
depends_on = ["web"]
health_check = { tcp = "localhost:5432" }
)", "/etc/arbor/arbor.toml", "/srv");
  REQUIRE(r.ok());
  CHECK(render_tree(*r.tree) ==
        "arbor.toml (1 group, 3 apps, 4 instances)\n"
        "├── web  [one_for_all intensity=3 period=5s]\n"
        "│   ├── web.api  ×2  restart=on_failure  `node server.js`\n"
        "│   └── web.worker  restart=always  max_memory=256M  cron='0 */6 * * *'  `node worker.js`\n"
        "└── migrate  restart=never  health=tcp:localhost:5432  depends_on=web  `./migrate.sh`\n");
}

TEST_CASE("render_tree: nested groups indent under a continuing parent") {
  auto r = load_string(R"(
strategy = "rest_for_one"
[metrics]
listen = "0.0.0.0:9200"
[a.b.c]
command = "c"
[a.d]
args = ["d", "x y"]
port = 3000
health_check = "http://localhost:{port}/"
[e]
command = "e"
)", "t.toml", "/srv");
  REQUIRE(r.ok());
  CHECK(render_tree(*r.tree) ==
        "t.toml (2 groups, 3 apps, 3 instances)  [rest_for_one]\n"
        "├── a  [one_for_one]\n"
        "│   ├── a.b  [one_for_one]\n"
        "│   │   └── a.b.c  restart=on_failure  `c`\n"
        "│   └── a.d  restart=on_failure  port=3000  health=http://localhost:{port}/  `d 'x y'`\n"
        "└── e  restart=on_failure  `e`\n"
        "metrics on 0.0.0.0:9200\n");
}
