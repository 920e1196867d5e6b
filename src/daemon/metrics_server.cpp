#include "metrics_server.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <unistd.h>

#include "log.hpp"

#include "arbor/messages.hpp"
#include "common.hpp"
#include "event_bus.hpp"
#include "http/http.hpp"
#include "metrics/exposition.hpp"

namespace arbor::detail {

namespace {

using counts_atom = caf::atom_constant<caf::atom("counts")>; ///< -> ids, flat counts

constexpr const char* arbor_version = "0.1.0"; // as `arbor --version` and `ping` say
constexpr auto status_timeout = std::chrono::seconds(2);
constexpr auto counts_timeout = std::chrono::seconds(1);
constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

// --- the restart counter: an actor on the event bus ---------------------------

struct restart_counter_state {
  static inline const char* name = "metrics_counter";
  metrics::restart_counter counter;
};

/// Counts restarts from the bus's events (subscribed by subscribe_before_start),
/// from `initial` on; (counts_atom) -> instance ids and their counts,
/// restart_cause_count per id. (Never spawn a function actor without
/// arguments: CAF 0.17 dereferences a null tuple for it, which UBSan reports.)
caf::behavior restart_counter_actor(caf::stateful_actor<restart_counter_state>* self,
                                    metrics::restart_counter initial) {
  log_unexpected(self, "metrics");
  self->state.counter = std::move(initial);
  return {
    [=](event& e) { self->state.counter.on_event(e.what, e.offender, e.cause); },
    [=](counts_atom) -> caf::result<std::vector<std::string>, std::vector<uint64_t>> {
      std::vector<std::string> ids;
      std::vector<uint64_t> flat;
      for (auto& [id, c] : self->state.counter.all()) {
        ids.push_back(id);
        flat.insert(flat.end(), c.begin(), c.end());
      }
      return {std::move(ids), std::move(flat)};
    },
  };
}

// --- the daemon's own figures (read on the HTTP thread) -----------------------

int64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return -1;
  return resident * ::sysconf(_SC_PAGESIZE);
}

int64_t open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  int64_t n = 0;
  while (auto* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1; // the directory's own descriptor
}

/// Seconds since this process started: /proc/uptime minus field 22
/// (starttime, clock ticks after boot) of /proc/self/stat.
double process_uptime() {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return -1;
  auto paren = line.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && (fields >> field); ++i) {
  }
  if (!fields) return -1;
  double since_boot = -1;
  if (!(std::ifstream("/proc/uptime") >> since_boot)) return -1;
  auto ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return -1;
  auto up = since_boot - std::stod(field) / static_cast<double>(ticks);
  return up < 0 ? 0 : std::round(up * 100) / 100; // /proc/uptime has 10 ms steps
}

} // namespace

struct metrics_server::impl {
  caf::actor_system& sys;
  supervision_tree& tree;
  caf::actor counter;
  http::server* http = nullptr; ///< running, or nullptr
  bool serving = false;
  uint16_t port = 0;

  impl(caf::actor_system& s, supervision_tree& t) : sys(s), tree(t) {
  }

  /// One scrape; only requests with timeouts, so a busy or hung tree costs
  /// a scrape at most status_timeout + counts_timeout and never blocks it.
  std::string scrape() {
    auto t0 = std::chrono::steady_clock::now();
    metrics::scrape_input in;
    if (auto st = tree.status(status_timeout)) {
      in.tree = std::move(*st);
    } else {
      log_warn("supervisor=root event=metrics_partial reason=\"the tree did not answer "
                   "the status request in {}s: {}\"",
                   status_timeout.count(), caf::to_string(st.error()));
    }
    {
      caf::scoped_actor self{sys};
      self->request(counter, counts_timeout, counts_atom::value)
        .receive(
          [&](std::vector<std::string>& ids, std::vector<uint64_t>& flat) {
            std::map<std::string, metrics::restart_counter::counts> m;
            for (size_t i = 0; i < ids.size(); ++i) {
              auto& c = m[ids[i]];
              for (size_t r = 0; r < c.size() && i * c.size() + r < flat.size(); ++r)
                c[r] = flat[i * c.size() + r];
            }
            in.restarts = std::move(m);
          },
          [&](caf::error& e) {
            log_warn("supervisor=root event=metrics_partial reason=\"the restart "
                         "counter did not answer: {}\"",
                         caf::to_string(e));
          });
    }
    in.daemon.uptime_seconds = process_uptime();
    in.daemon.resident_memory_bytes = resident_bytes();
    in.daemon.open_fds = open_fds();
    in.daemon.version = arbor_version;
    in.scrape_duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return metrics::render(metrics::build_families(in));
  }

  void start(const metrics_spec& spec) {
    std::string err;
    auto addr = metrics::parse_listen(spec.listen, err);
    if (!addr) {
      log_error("supervisor=root event=metrics_failed listen=\"{}\" reason=\"{}\" "
                    "(serving no metrics)",
                    spec.listen, err);
      return;
    }
    std::string why;
    auto* mod = http::module(&why);
    if (mod == nullptr) {
      log_error("supervisor=root event=metrics_failed listen=\"{}\" reason=\"{}\" "
                    "(serving no metrics; the tree runs on)",
                    spec.listen, why);
      return;
    }
    http::server_options o;
    o.host = addr->host;
    o.port = addr->port;
    o.workers = 2;
    o.routes.push_back({"GET", "/metrics", [this](const http::request&) {
                          http::response r;
                          try {
                            r.body = scrape();
                            r.content_type = content_type;
                          } catch (const std::exception& e) {
                            log_error("supervisor=root event=metrics_scrape_failed reason=\"{}\"",
                                      e.what());
                            r.status = 500;
                            r.body = std::string{"scrape failed: "} + e.what() + "\n";
                          }
                          return r;
                        }});
    uint16_t bound = 0;
    http = mod->serve(std::move(o), bound, why);
    if (http == nullptr) {
      log_error("supervisor=root event=metrics_failed listen=\"{}\" reason=\"{}\" "
                    "(serving no metrics; the tree runs on)",
                    spec.listen, why);
      return;
    }
    port = bound;
    serving = true;
    if (metrics::is_loopback(addr->host))
      log_info("supervisor=root event=metrics_listening listen={}:{} path=/metrics",
                   addr->host, port);
    else
      log_warn("supervisor=root event=metrics_listening listen={}:{} path=/metrics "
                   "reason=\"not a loopback address: anyone who can reach it reads the "
                   "metrics (no authentication)\"",
                   addr->host, port);
  }
};

metrics_server::metrics_server(caf::actor_system& sys, supervision_tree& tree,
                               const metrics_spec& spec)
  : impl_(std::make_unique<impl>(sys, tree)) {
  auto& d = *impl_;
  try {
    d.counter = sys.spawn(restart_counter_actor, metrics::restart_counter{});
    if (!subscribe_before_start(sys, tree.events(), d.counter))
      log_warn("supervisor=root event=metrics_partial reason=\"the event bus did not "
                   "confirm the subscription: early restarts may be missing from "
                   "arbor_instance_restarts_total\"");
    d.start(spec);
  } catch (const std::exception& e) {
    log_error("supervisor=root event=metrics_failed listen=\"{}\" reason=\"{}\" "
                  "(serving no metrics)",
                  spec.listen, e.what());
  }
}

metrics_server::~metrics_server() {
  auto& d = *impl_;
  if (d.http != nullptr) http::module()->stop(d.http); // loaded: it made the server
  if (d.counter) caf::anon_send_exit(d.counter, caf::exit_reason::user_shutdown);
}

bool metrics_server::serving() const {
  return impl_->serving;
}

uint16_t metrics_server::port() const {
  return impl_->serving ? impl_->port : 0;
}

} // namespace arbor::detail
