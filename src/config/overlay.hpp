#pragma once

// The apps `arbor start -- CMD` adds without a file: the overlay, a TOML file
// of arbor.toml's schema that the daemon keeps in <home>/overlay.toml. The
// tree a daemon runs is the config file's apps followed by the overlay's;
// an app both define is an error (nothing is applied), never a silent pick.
//
//   auto res = load_with_overlay(file, {env}, home);   // what `up`/`apply` run
//   auto text = overlay_with(old_text, app, error);     // `arbor start -- CMD`
//   write_overlay(home, text, error);                  // tmp + rename

#include <cstdint>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "config/loader.hpp"

namespace arbor::config {

/// One app as `arbor start -- CMD ARGS` gives it; the loader checks every
/// value (a bad `restart` or `instances` is its diagnostic).
struct started_app {
  std::string name;
  std::vector<std::string> args;   ///< the command's words, run without a shell
  int64_t instances = 1;
  std::string restart;             ///< "" = the default
  std::string cwd;                 ///< absolute
  std::vector<std::string> env;    ///< "NAME=value" each
};

/// <home>/overlay.toml
std::string overlay_path(const std::string& home);

/// The overlay's text ("" when there is none); false with `error` when it
/// cannot be read (a symlink is refused: the home's files are ours).
bool read_overlay(const std::string& home, std::string& text, std::string& error);

/// Writes the overlay: tmp + rename (never through a symlink), synced; an
/// empty overlay is no file. False with `error`.
bool write_overlay(const std::string& home, const std::string& text, std::string& error);

/// `text` with `app`'s table added; "" with `error` for an env entry that is
/// not NAME=value or an overlay that does not parse.
std::string overlay_with(const std::string& text, const started_app& app, std::string& error);

/// `text` without the app named `name` (as it was if none).
std::string overlay_without(const std::string& text, const std::string& name);

/// The names the overlay `text` defines at its top level, sorted.
std::vector<std::string> overlay_names(const std::string& text);

/// `file`'s tree ("" = no file: an empty tree) with `options`, plus the
/// overlay of `home` appended to its root, validated as one tree. An
/// overlay app the file defines too is an error saying how to resolve it.
load_result load_with_overlay(const std::string& file, const load_options& options,
                              const std::string& home);

/// The overlay `text` alone, read as overlay_path(home).
load_result load_overlay(const std::string& text, const std::string& home);

/// `base` with `overlay`'s top-level apps and groups appended to its root,
/// validated as one tree (start order, listen collisions, ...).
load_result merge_overlay(tree_spec base, const tree_spec& overlay);

/// Whether an app or group at `where` comes from the overlay of `home`.
bool from_overlay(const source_pos& where, const std::string& home);

/// Where a node's table is.
const source_pos& where_of(const node_spec& n);

} // namespace arbor::config
