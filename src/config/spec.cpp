// Out-of-line parts of arbor/spec.hpp.

#include "arbor/spec.hpp"

#include "config/app_fields.hpp"

namespace arbor {

const char* to_string(restart_policy p) {
  switch (p) {
  case restart_policy::on_failure: return "on_failure";
  case restart_policy::always: return "always";
  case restart_policy::never: return "never";
  }
  return "?";
}

const char* to_string(strategy_kind s) {
  switch (s) {
  case strategy_kind::one_for_one: return "one_for_one";
  case strategy_kind::one_for_all: return "one_for_all";
  case strategy_kind::rest_for_one: return "rest_for_one";
  }
  return "?";
}

namespace {

source_pos position(const key_positions& keys, const std::string& key, const source_pos& other) {
  for (const auto& [k, at] : keys)
    if (k == key) return at;
  return other;
}

} // namespace

source_pos app_spec::where_of(const std::string& key) const {
  return position(key_where, key, where);
}

source_pos group_spec::where_of(const std::string& key) const {
  return position(key_where, key, where);
}

/// The app's keys (config/app_fields.cpp) and its name; not where it was written.
bool app_spec::same_run_spec(const app_spec& o) const {
  return name == o.name && config::changed_keys(*this, o).empty();
}

} // namespace arbor
