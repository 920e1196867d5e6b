// libFuzzer target: the whole config loader, TOML text → tree_spec
// (config/loader.hpp): parsing, every key's validation, depends_on, cron
// keys, health checks, render_tree.
//
// Relative paths resolve against tests/config/data (its app.env and bad.env
// are there to be read). The loader reads files named by `env_file`, so an
// input whose env_file could leave that directory ("/dev/zero", "../x") is
// skipped: reading devices or FIFOs is not what is being fuzzed.
//
// Checks, besides memory safety and UB: load_string never throws; a tree
// exactly when there is no error; every diagnostic has a message and a
// position inside the text (or none); render_tree works on every tree.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/loader.hpp"
#include "fuzz_check.hpp"

#ifndef ARBOR_FUZZ_DATA_DIR
#error "ARBOR_FUZZ_DATA_DIR must name tests/config/data"
#endif

namespace {

bool safe_env_files(const toml::node& n) {
  if (auto t = n.as_table()) {
    for (auto&& [k, v] : *t) {
      if (k.str() == "env_file") {
        if (auto s = v.as_string()) {
          std::string_view path{s->get()};
          if (path.find('/') != std::string_view::npos || path == "..") return false;
        }
      }
      if (!safe_env_files(v)) return false;
    }
  } else if (auto a = n.as_array()) {
    for (const auto& el : *a)
      if (!safe_env_files(el)) return false;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  try {
    auto doc = toml::parse(text, std::string_view{"fuzz.toml"});
    if (!safe_env_files(doc)) return 0;
  } catch (const toml::parse_error&) {
    // The loader stops at the parse error too, before reading any file.
  }

  auto r = arbor::config::load_string(text, "fuzz.toml", ARBOR_FUZZ_DATA_DIR);
  FUZZ_CHECK(r.ok() == r.errors.empty(), "a tree exactly when there is no error");

  uint32_t lines = 1;
  for (char c : text) lines += c == '\n';
  for (const auto& d : r.errors) {
    FUZZ_CHECK(!d.message.empty(), "a diagnostic has a message");
    FUZZ_CHECK(d.where.file == "fuzz.toml", "a diagnostic names the file");
    FUZZ_CHECK(d.where.line <= lines, "a diagnostic's line is in the text");
    FUZZ_CHECK(d.where.line != 0 || d.where.col == 0, "no column without a line");
    FUZZ_CHECK(!d.to_string().empty(), "to_string");
  }
  if (r.tree) {
    FUZZ_CHECK(!r.tree->root.children.empty(), "a tree has an app");
    FUZZ_CHECK(!arbor::config::render_tree(*r.tree).empty(), "render_tree");
  }
  return 0;
}
