// `arbor top`'s keys and prompts.

#include "top/controller.hpp"

#include "cli/verbs.hpp"

namespace arbor::top {

namespace {

/// The protocol's name for a row: its path or id; the root group is "all".
std::string target_of(const row& r) { return r.key.empty() ? "all" : r.key; }

const row* app_row(const model& m, const std::string& app) {
  for (const auto& r : m.rows())
    if (r.kind == row_kind::app && r.key == app) return &r;
  return nullptr;
}

request names_request(const std::string& cmd, const row& r) {
  return {cmd, json{{"names", json::array({target_of(r)})}}, cmd + " " + target_of(r)};
}

bool printable(int k) { return k >= 0x20 && k < 0x7f; }

} // namespace

controller::outcome controller::on_key(int k, model& m, log_view& logs) {
  if (mode_ == mode::normal) return normal_key(k, m, logs);
  if (mode_ == mode::confirm) {
    mode_ = mode::normal;
    if (k != 'y' && k != 'Y') {
      message_ = "cancelled";
      pending_.reset();
      return {};
    }
    outcome o;
    o.send = std::move(pending_);
    pending_.reset();
    message_ = o.send->what + "...";
    return o;
  }
  return prompt_key(k, m, logs);
}

controller::outcome controller::act(request r, bool destructive) {
  if (read_only_) {
    message_ = "read-only: actions are off (started with --read-only)";
    return {};
  }
  if (destructive) {
    message_.clear();
    pending_ = std::move(r);
    mode_ = mode::confirm;
    return {};
  }
  message_ = r.what + "...";
  outcome o;
  o.send = std::move(r);
  return o;
}

std::optional<request> controller::scale_to(const model& m, long n, bool& down) {
  const row* r = m.selected();
  const row* app = r ? app_row(m, r->app) : nullptr;
  if (!app) {
    message_ = "scale: select an app or an instance";
    return std::nullopt;
  }
  if (n < 0 || n > static_cast<long>(cli::max_instances)) {
    message_ = "scale: the count must be 0 to " + std::to_string(cli::max_instances);
    return std::nullopt;
  }
  down = n < static_cast<long>(app->total);
  return request{"scale", json{{"name", app->key}, {"instances", n}},
                 "scale " + app->key + " from " + std::to_string(app->total) + " to "
                   + std::to_string(n)};
}

controller::outcome controller::normal_key(int k, model& m, log_view& logs) {
  const row* sel = m.selected();
  switch (k) {
  case 'q': return {true, std::nullopt};
  case 'j': case key_down: m.move(1); break;
  case 'k': case key_up: m.move(-1); break;
  case key_page_down: m.move(page_); break;
  case key_page_up: m.move(-page_); break;
  case 'g': case key_home: m.select_first(); break;
  case 'G': case key_end: m.select_last(); break;
  case 'h': case key_left: m.set_expanded(false); break;
  case 'l': case key_right: m.set_expanded(true); break;
  case ' ': case key_enter: m.toggle_selected(); break;
  case key_tab: lower_ = lower_ == pane::events ? pane::logs : pane::events; break;
  case 'o': logs.cycle_streams(); message_ = std::string{"logs: "} + to_string(logs.streams()); break;
  case 'w': logs.toggle_wrap(); message_ = logs.wrap() ? "logs: wrap" : "logs: cut"; break;
  case 'n': case 'N':
    if (!logs.next_match(k == 'n')) message_ = "no other match for '" + logs.term() + "'";
    break;
  case key_escape:
    logs.follow();
    m.set_filter("");
    message_.clear();
    break;
  case 'f': mode_ = mode::filter; input_ = m.filter(); break;
  case '/': mode_ = mode::search; input_.clear(); lower_ = pane::logs; break;
  case 'S': case 'K':
    if (read_only_) return act({}, false);
    mode_ = k == 'S' ? mode::scale : mode::signal;
    input_.clear();
    break;
  case '+': case '-': {
    const row* app = sel ? app_row(m, sel->app) : nullptr;
    bool down = false;
    auto r = scale_to(m, app ? static_cast<long>(app->total) + (k == '+' ? 1 : -1) : 0, down);
    if (r) return act(std::move(*r), down);
    break;
  }
  case 's': case 'x': case 'r': case 'R': {
    if (!sel) break;
    static const char* cmds[] = {"start", "stop", "restart", "reload"};
    int i = k == 's' ? 0 : k == 'x' ? 1 : k == 'r' ? 2 : 3;
    return act(names_request(cmds[i], *sel), k == 'x' || k == 'r');
  }
  default: break;
  }
  return {};
}

controller::outcome controller::prompt_key(int k, model& m, log_view& logs) {
  bool done = k == key_enter, cancel = k == key_escape;
  if (k == key_backspace && !input_.empty()) input_.pop_back();
  else if (printable(k)) input_ += static_cast<char>(k);
  if (mode_ == mode::filter) { // live: the tree follows each key
    m.set_filter(cancel ? "" : input_);
    if (done || cancel) mode_ = mode::normal;
    return {};
  }
  if (!done && !cancel) return {};
  auto was = mode_;
  mode_ = mode::normal;
  if (cancel) return {};
  if (was == mode::search) {
    logs.search(input_);
    if (!input_.empty() && logs.following()) message_ = "'" + input_ + "' not found";
    return {};
  }
  const row* sel = m.selected();
  if (!sel) return {};
  if (was == mode::scale) {
    std::string error;
    auto n = cli::parse_instance_count(input_, error);
    if (!n) {
      message_ = "scale: " + error;
      return {};
    }
    bool down = false;
    auto r = scale_to(m, static_cast<long>(*n), down);
    return r ? act(std::move(*r), down) : outcome{};
  }
  std::string error;
  auto sig = cli::parse_signal_arg(input_, error);
  if (!sig) {
    message_ = "signal: " + error;
    return {};
  }
  auto r = names_request("signal", *sel);
  r.args["signal"] = *sig;
  r.what = "send SIG" + *sig + " to " + target_of(*sel);
  return act(std::move(r), true);
}

std::string controller::status_line() const {
  switch (mode_) {
  case mode::confirm: return pending_->what + "? [y/N]";
  case mode::filter: return "filter: " + input_;
  case mode::search: return "search logs: " + input_;
  case mode::scale: return "scale to how many instances: " + input_;
  case mode::signal: return "signal to send (HUP, USR1, TERM, ...): " + input_;
  case mode::normal: break;
  }
  if (!message_.empty()) return message_;
  // Both fit in 80 columns; the log keys (/ n N o w) are in the README.
  if (read_only_) return "READ-ONLY  q:quit f:filter Tab:events/logs /:search n/N:next o:out/err w:wrap";
  return "q:quit s:start x:stop r:restart R:reload +-S:scale K:signal f:filter Tab:logs";
}

} // namespace arbor::top
