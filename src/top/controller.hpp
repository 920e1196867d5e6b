#pragma once

// `arbor top`'s keys: what each does to the model and the log pane, the
// prompts (filter, search, scale, signal) and confirmations, and the
// protocol request an action becomes. Pure: the session sends the request
// and the view maps the terminal's key codes to `key`.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "top/log_view.hpp"
#include "top/model.hpp"

namespace arbor::top {

/// Keys besides printable characters (values above any character).
enum key : int {
  key_up = 0x110000,
  key_down,
  key_page_up,
  key_page_down,
  key_home,
  key_end,
  key_left,
  key_right,
  key_enter,
  key_backspace,
  key_escape,
  key_tab,
  key_resize, ///< the terminal changed size (no action; the view redraws)
};

/// A control request an action becomes (src/proto/PROTOCOL.md).
struct request {
  std::string cmd;   ///< "restart"
  json args;         ///< {"names":["web.api#0"]}
  std::string what;  ///< "restart web.api#0", for the status line
};

/// What the lower pane shows.
enum class pane { events, logs };

class controller {
public:
  explicit controller(bool read_only) : read_only_(read_only) {}

  struct outcome {
    bool quit = false;
    std::optional<request> send;
  };
  outcome on_key(int k, model& m, log_view& logs);

  /// The bottom line: the prompt being typed, a question, or the last message.
  std::string status_line() const;
  void set_message(std::string text) { message_ = std::move(text); }
  pane lower() const { return lower_; }
  /// Rows a page key moves (the tree pane's height).
  void set_page(int rows) { page_ = rows > 1 ? rows : 1; }
  bool read_only() const { return read_only_; }

private:
  enum class mode { normal, confirm, filter, search, scale, signal };

  outcome normal_key(int k, model& m, log_view& logs);
  outcome prompt_key(int k, model& m, log_view& logs);
  /// An action on the selection: asks first when `destructive`.
  outcome act(request r, bool destructive);
  std::optional<request> scale_to(const model& m, long n, bool& down);

  bool read_only_;
  mode mode_ = mode::normal;
  pane lower_ = pane::events;
  int page_ = 10;
  std::string input_;          ///< what a prompt has so far
  std::optional<request> pending_; ///< waiting for y
  std::string message_;
};

} // namespace arbor::top
