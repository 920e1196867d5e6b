// `listen`: "127.0.0.1:3000", an inline table { address = ..., mode = ...,
// owner = ..., name = ... }, or an array of either. The addresses' form and
// the values' rules are validate()'s (listen_rules.cpp).

#include <algorithm>

#include "config/detail.hpp"
#include "config/suggest.hpp"

namespace arbor::config::detail {

namespace {

const std::vector<std::string_view>& entry_keys() {
  static const std::vector<std::string_view> keys = {"address", "mode", "owner", "name"};
  return keys;
}

/// One entry at `key` ("listen", "listen[1]").
void read_entry(context& cx, const toml::node& n, const std::string& key, app_spec& app) {
  listen_spec out;
  if (auto s = n.as_string()) {
    out.address = s->get();
    app.key_where.emplace_back(key, cx.pos(n.source()));
    app.listen.push_back(std::move(out));
    return;
  }
  auto t = n.as_table();
  if (!t) {
    cx.error(n, "'" + key + "' must be an address (\"127.0.0.1:3000\", \":3000\", "
                "\"unix:/run/app.sock\") or a table with 'address', got "
                + std::string{type_name(n)});
    return;
  }
  bool has_address = false, unknown = false;
  for (const auto& e : in_file_order(*t)) {
    auto field = key + "." + std::string{e.key};
    auto& keys = entry_keys();
    if (std::find(keys.begin(), keys.end(), e.key) == keys.end()) {
      cx.error(e.key_source(), "unknown key '" + std::string{e.key} + "' in '" + key + "' of app '"
                                 + app.name + "'" + did_you_mean(e.key, keys));
      unknown = true;
      continue;
    }
    auto s = get_string(cx, *e.value, field);
    if (!s) continue;
    app.key_where.emplace_back(field, cx.pos(e.value->source()));
    if (e.key == "address") {
      out.address = *s;
      has_address = true;
    } else if (e.key == "mode") {
      out.mode = *s;
    } else if (e.key == "owner") {
      out.owner = *s;
    } else {
      out.name = *s;
    }
  }
  if (!has_address) {
    if (unknown) return; // a misspelt 'address' is reported as such
    cx.error(n, "'" + key + "' needs 'address' (\"127.0.0.1:3000\", \":3000\", "
                "\"unix:/run/app.sock\") in app '" + app.name + "'");
    return;
  }
  app.key_where.emplace_back(key, cx.pos(n.source()));
  app.listen.push_back(std::move(out));
}

} // namespace

void read_listen(context& cx, const toml::node& n, app_spec& app) {
  auto arr = n.as_array();
  if (!arr) return read_entry(cx, n, "listen", app);
  for (size_t i = 0; i < arr->size(); ++i)
    read_entry(cx, *arr->get(i), "listen[" + std::to_string(i) + "]", app);
}

} // namespace arbor::config::detail
