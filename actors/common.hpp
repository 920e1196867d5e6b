#pragma once

// Small things every actor of the tree does the same way.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include "log.hpp"

namespace arbor::detail {

/// Logs and drops unexpected messages (CAF's default prints to stdout).
inline void log_unexpected(caf::scheduled_actor* self, std::string who) {
  self->set_default_handler(
    [who](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      log_warn("supervisor={} event=unexpected_message reason=\"{}\"", who,
                   caf::deep_to_string(x.copy_content_to_message()));
      return caf::sec::unexpected_message;
    });
}

/// Sends `msg` as a request to every actor in `xs` and calls `done` once all
/// have answered, with the answers in the order of `xs` (a slot whose actor
/// failed or timed out keeps a default T). Calls `done` at once if `xs` is
/// empty. Never blocks. `timeout` is per request; `caf::infinite` sets no
/// timer (a dead actor still answers, with an error): CAF 0.17 cannot cancel
/// a request's timer, so each one fires later as a message to `self` even
/// when the answer came long before (a status of 1000 instances would leave
/// 1000 timers behind). For fan-outs whose caller holds the deadline.
template <class T, class Self, class Msg>
void gather(Self* self, const std::vector<caf::actor>& xs, caf::duration timeout, Msg msg,
            std::function<void(std::vector<T>&)> done) {
  auto out = std::make_shared<std::vector<T>>(xs.size());
  auto left = std::make_shared<size_t>(xs.size());
  if (xs.empty()) {
    done(*out);
    return;
  }
  // One shared copy of `done`: it may hold O(n) data (ids), and every
  // request's continuation copies its closure (n requests → n² otherwise).
  auto fin = std::make_shared<std::function<void(std::vector<T>&)>>(std::move(done));
  for (size_t i = 0; i < xs.size(); ++i) {
    auto one = [out, left, fin, i](T* x) {
      if (x) (*out)[i] = std::move(*x);
      if (--*left == 0) (*fin)(*out);
    };
    self->request(xs[i], timeout, msg)
      .then([=](T& x) { one(&x); }, [=](caf::error&) { one(nullptr); });
  }
}

template <class T, class Self, class Msg>
void gather(Self* self, const std::vector<caf::actor>& xs, std::chrono::milliseconds timeout,
            Msg msg, std::function<void(std::vector<T>&)> done) {
  gather<T>(self, xs, caf::duration{timeout}, std::move(msg), std::move(done));
}

} // namespace arbor::detail
