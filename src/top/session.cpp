// `arbor top`'s loop: one thread owns the terminal, the model and the main
// connection; feeds (feeds.hpp) wake it through a pipe.

#include "top/session.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "proto/client.hpp"
#include "top/feeds.hpp"
#include "top/view.hpp"

namespace arbor::top {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

int wake_pipe[2] = {-1, -1};
volatile sig_atomic_t quit_requested = 0;

void on_quit_signal(int) {
  quit_requested = 1;
  char c = 0;
  auto n = ::write(wake_pipe[1], &c, 1);
  (void)n;
}

/// SIGINT and SIGTERM wake the loop, which restores the terminal and exits.
/// Installed before curses starts, so curses keeps its hands off them.
void catch_quit_signals() {
  cli::on_interrupt(on_quit_signal);
  std::signal(SIGPIPE, SIG_IGN);
}

int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

constexpr milliseconds tree_interval{1000}; // uptime, memory and CPU move on their own
constexpr milliseconds frame_interval{100}; // at most 10 frames a second
constexpr size_t events_kept = 500;

class session {
public:
  session(const top_options& o, std::shared_ptr<inbox> box)
      : opts_(o), box_(std::move(box)), keys_(o.read_only), view_(o.color) {}

  [[noreturn]] void run();

private:
  std::optional<json> call(const std::string& cmd, const json& args);
  void fetch_tree();
  void take_inbox();
  void read_keys();
  void follow_selection_logs();
  [[noreturn]] void quit();

  top_options opts_;
  std::shared_ptr<inbox> box_;
  std::unique_ptr<proto::client> conn_;
  std::string connection_; // why the daemon cannot be reached ("" = fine)
  model model_;
  log_view logs_;
  controller keys_;
  std::deque<event_line> events_;
  cli::event_columns columns_;
  log_feed feed_;
  bool following_logs_ = false;
  steady::time_point last_tree_{}, next_tree_{}, last_frame_{};
  bool dirty_ = true;
  view view_; // last: takes the terminal once everything else exists
};

std::optional<json> session::call(const std::string& cmd, const json& args) {
  std::string error;
  if (!conn_) conn_ = proto::client::connect(opts_.socket, error);
  if (conn_) {
    proto::request req;
    req.cmd = cmd;
    req.args = args;
    auto reply = conn_->call(std::move(req), error, 5000);
    if (reply && reply->type == proto::response::kind::ok) {
      connection_.clear();
      return reply->result;
    }
    if (reply) error = reply->error_message; // the daemon answered: the connection is fine
    else conn_.reset();
  }
  connection_ = cmd + ": " + error;
  return std::nullopt;
}

void session::fetch_tree() {
  last_tree_ = steady::now();
  next_tree_ = last_tree_ + tree_interval;
  dirty_ = true;
  auto tree = call("tree", json::object());
  if (!tree) return;
  model_.set_tree(tree->value("root", json::object()));
  for (const auto& g : model_.groups_without_limits()) {
    auto shown = call("show", json{{"name", g.empty() ? std::string{"all"} : g}});
    if (!shown) continue; // asked again at the next refresh
    const json spec = shown->value("spec", json::object());
    group_limits l;
    if (spec.contains("intensity") && spec["intensity"].is_number_integer())
      l.intensity = spec["intensity"].get<int64_t>();
    l.period_s = spec.value("period", int64_t{0});
    model_.set_limits(g, l);
  }
}

void session::take_inbox() {
  auto got = box_->take(feed_.generation());
  bool refresh = got.changed;
  for (auto& ev : got.events) {
    model_.note_event(ev);
    events_.push_back({cli::render_event(ev, false, columns_), ev.value("event", "")});
    if (events_.size() > events_kept) events_.pop_front();
    refresh = true; // every event is a change of state: show it now
  }
  for (auto& l : got.logs) logs_.add(std::move(l));
  for (auto& m : got.messages) keys_.set_message(m);
  if (refresh) next_tree_ = std::min(next_tree_, last_tree_ + frame_interval);
  dirty_ = dirty_ || refresh || !got.logs.empty() || !got.messages.empty();
}

void session::read_keys() {
  for (int k = view_.read_key(); k != -1; k = view_.read_key()) {
    dirty_ = true;
    auto o = keys_.on_key(k, model_, logs_);
    if (o.quit) quit();
    if (o.send) start_action(opts_.socket, std::move(*o.send), box_);
  }
}

void session::follow_selection_logs() {
  const row* sel = model_.selected();
  if (keys_.lower() != pane::logs || !sel) {
    if (following_logs_) feed_.stop();
    following_logs_ = false;
    return;
  }
  // An instance's lines are its app's, filtered; a group's are its apps'.
  std::string target = sel->kind == row_kind::instance ? sel->app : sel->key;
  std::string instance = sel->kind == row_kind::instance ? sel->key : "";
  if (following_logs_ && target == feed_.target()) {
    logs_.set_instance(instance);
    return;
  }
  following_logs_ = true;
  logs_.reset(instance);
  auto args = target.empty() ? json::object() : json{{"names", json::array({target})}};
  auto listed = call("logs", args);
  feed_.follow(target, listed ? listed->value("files", json::array()) : json::array(), box_);
}

void session::quit() {
  restore_terminal();
  std::fflush(stdout);
  ::_exit(0);
}

void session::run() {
  fetch_tree();
  for (;;) {
    if (quit_requested) quit();
    auto now = steady::now();
    if (now >= next_tree_) fetch_tree();
    follow_selection_logs();
    if (dirty_ && now - last_frame_ >= frame_interval) {
      keys_.set_page(view_.tree_rows());
      view_.draw({model_, keys_, logs_, events_,
                  following_logs_ ? (feed_.target().empty() ? "all" : feed_.target()) : "",
                  connection_, wall_ns()});
      last_frame_ = now;
      dirty_ = false;
    }
    auto wake_at = dirty_ ? std::min(next_tree_, last_frame_ + frame_interval) : next_tree_;
    auto wait = std::chrono::duration_cast<milliseconds>(wake_at - steady::now()).count();
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
    ::poll(fds, 2, static_cast<int>(std::max<long long>(wait, 0) + 1));
    char buf[256];
    while (::read(wake_pipe[0], buf, sizeof buf) > 0) {
    }
    read_keys();
    take_inbox();
  }
}

} // namespace

void run_top(const top_options& opts) {
  if (::pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    std::perror("arbor: pipe");
    ::_exit(1);
  }
  catch_quit_signals();
  auto box = std::make_shared<inbox>(wake_pipe[1]);
  start_event_feed(opts.socket, box);
  // On the heap and never destroyed: quit() ends the process from inside it.
  auto* s = new session(opts, box);
  s->run();
}

} // namespace arbor::top
