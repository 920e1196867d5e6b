#include "group_supervisor.hpp"

#include <spdlog/spdlog.h>

#include "app_supervisor.hpp"
#include "arbor/messages.hpp"
#include "common.hpp"

namespace arbor::detail {

namespace {

using self_ptr = caf::stateful_actor<group_supervisor_state>*;

const std::string& label(self_ptr self) {
  static const std::string root = "root";
  return self->state.spec->name.empty() ? root : self->state.spec->name;
}

/// Stops children[i-1], then the one before it, ..., then replies.
void stop_from(self_ptr self, caf::typed_response_promise<bool> rp, size_t i) {
  if (i == 0) {
    rp.deliver(true);
    return;
  }
  auto child = self->state.children[i - 1];
  self->request(child, caf::infinite, stop_atom::value)
    .then([=](bool) { stop_from(self, rp, i - 1); },
          [=](caf::error&) { stop_from(self, rp, i - 1); });
}

/// A group is failed if a child is, else running if any child runs.
std::string summarize_group(const std::vector<node_status>& xs) {
  bool any_running = false;
  for (auto& x : xs) {
    if (x.state == "failed") return "failed";
    if (x.state != "stopped") any_running = true;
  }
  return any_running ? "running" : "stopped";
}

} // namespace

caf::behavior group_supervisor(caf::stateful_actor<group_supervisor_state>* self,
                               std::shared_ptr<const group_spec> spec, caf::actor parent,
                               runtime_ptr rt) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.parent = std::move(parent);
  st.rt = std::move(rt);
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto& child : st.spec->children) {
    if (child.type == node_spec::kind::app)
      st.children.push_back(self->spawn<caf::monitored>(
        app_supervisor, std::make_shared<const app_spec>(child.app), me, st.rt));
    else
      st.children.push_back(self->spawn<caf::monitored>(
        group_supervisor, std::make_shared<const group_spec>(child.group), me, st.rt));
  }
  // The state is gone when attachables run (CAF 0.17): keep our own copy.
  self->attach_functor([kids = st.children](const caf::error&) {
    for (auto& x : kids) caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  });
  log_unexpected(self, label(self));
  self->set_down_handler([=](caf::down_msg& dm) {
    spdlog::error("supervisor={} event=child_terminated reason={} offender=actor",
                  label(self), self->system().render(dm.reason));
  });
  return {
    [=](start_atom) {
      self->state.want_up = true;
      for (auto& c : self->state.children) self->send(c, start_atom::value);
    },
    [=](stop_atom) -> caf::result<bool> {
      self->state.want_up = false;
      auto rp = self->make_response_promise<bool>();
      stop_from(self, rp, self->state.children.size());
      return rp;
    },
    [=](halt_atom) {
      for (auto& c : self->state.children) self->send(c, halt_atom::value);
    },
    [=](status_atom) -> caf::result<node_status> {
      auto& s = self->state;
      auto rp = self->make_response_promise<node_status>();
      gather<node_status>(self, s.children, std::chrono::seconds(10), status_atom::value,
                          [rp, spec = s.spec](std::vector<node_status>& xs) mutable {
                            node_status out;
                            out.name = spec->name;
                            out.is_group = true;
                            out.strategy = to_string(spec->strategy);
                            out.state = summarize_group(xs);
                            out.children = std::move(xs);
                            rp.deliver(std::move(out));
                          });
      return rp;
    },
  };
}

} // namespace arbor::detail
