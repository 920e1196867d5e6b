// The embedding API (include/arbor/arbor.hpp): message type registration,
// config loading with diagnostics as caf::error, typed handles.

#include "arbor/arbor.hpp"

#include <utility>

#include "config/loader.hpp"

namespace arbor {

namespace {

const caf::atom_value arbor_category = caf::atom("arbor");

} // namespace

const char* to_string(errc x) {
  switch (x) {
    case errc::invalid_config: return "invalid_config";
  }
  return "unknown";
}

caf::error make_error(errc x) {
  return caf::error{static_cast<uint8_t>(x), arbor_category};
}

caf::error make_error(errc x, std::vector<std::string> diagnostics) {
  return caf::error{static_cast<uint8_t>(x), arbor_category,
                    caf::make_message(std::move(diagnostics))};
}

std::vector<std::string> diagnostics(const caf::error& e) {
  if (e.category() != arbor_category) return {};
  const auto& ctx = e.context();
  if (ctx.size() != 1 || !ctx.match_element<std::vector<std::string>>(0)) return {};
  return ctx.get_as<std::vector<std::string>>(0);
}

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<event>("arbor.event");
  cfg.add_message_type<reason>("arbor.reason");
  cfg.add_message_type<instance_status>("arbor.instance_status");
  cfg.add_message_type<node_status>("arbor.node_status");
  cfg.add_message_type<apply_report>("arbor.apply_report");
  cfg.add_error_category(arbor_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           std::string out = "arbor: ";
                           out += to_string(static_cast<errc>(code));
                           if (ctx.size() == 1 && ctx.match_element<std::vector<std::string>>(0))
                             for (auto& line : ctx.get_as<std::vector<std::string>>(0))
                               out += "\n  " + line;
                           else if (!ctx.empty())
                             out += " " + caf::to_string(ctx);
                           return out;
                         });
}

caf::expected<tree_spec> load_config(const std::string& path) {
  auto res = config::load_file(path);
  if (res.ok()) return std::move(*res.tree);
  std::vector<std::string> lines;
  lines.reserve(res.errors.size());
  for (auto& d : res.errors) lines.push_back(d.to_string());
  if (lines.empty()) lines.push_back(path + ": invalid config"); // loader guarantees one
  return make_error(errc::invalid_config, std::move(lines));
}

root_actor root_of(const supervision_tree& tree) {
  return caf::actor_cast<root_actor>(tree.root());
}

event_bus_actor events_of(const supervision_tree& tree) {
  return caf::actor_cast<event_bus_actor>(tree.events());
}

} // namespace arbor
