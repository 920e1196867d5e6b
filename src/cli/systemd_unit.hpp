#pragma once

// The systemd unit `arbor startup` prints or installs: pure functions (no
// I/O), so the text is unit-tested and `systemd-analyze verify`-ed.

#include <chrono>
#include <string>

#include "arbor/spec.hpp"

namespace arbor::cli {

struct unit_options {
  std::string name = "arbor";   ///< unit name without ".service"
  std::string daemon;           ///< absolute path of arbor-daemon
  std::string config_file;      ///< absolute path of the config
  std::string env;              ///< its selected environment (`--env`; a config::is_env_name), "" = none
  std::string home;             ///< absolute $ARBOR_HOME the daemon serves
  std::string run_as;           ///< `User=` of a system unit; "" = the manager's (root)
  /// PATH of the daemon and so of its apps: the one of whoever ran `arbor
  /// startup`, so commands found through it (pyenv, nvm shims) are found at
  /// boot too. "" = systemd's default PATH.
  std::string path;
  bool user_unit = false;       ///< for `systemctl --user`: WantedBy=default.target
  std::chrono::seconds stop_timeout{90};  ///< TimeoutStopSec
};

/// The unit file: Type=notify (the daemon sends READY=1 once the tree is up),
/// NotifyAccess=main, KillMode=mixed (SIGTERM to the daemon alone, which stops
/// the tree gracefully; whatever is left gets SIGKILL at the end), restart on
/// failure except a bad config (exit 2). Paths are quoted and `%`/`$` escaped
/// for systemd's parser.
std::string render_unit(const unit_options& o);

/// TimeoutStopSec for `tree`: apps stop one after another in reverse start
/// order (an app's instances together), so the worst case is the sum of the
/// apps' kill_timeout; plus 30 s for the daemon's own work, rounded up to
/// whole seconds.
std::chrono::seconds stop_timeout_for(const tree_spec& tree);

/// TimeoutStopSec when the config cannot be read: systemd's own default.
inline constexpr std::chrono::seconds default_stop_timeout{90};

/// A name usable as `<name>.service`: non-empty, at most 200 characters of
/// [A-Za-z0-9:_.-], not starting with '.' or '-'. (No '@': that would make a
/// template.)
bool valid_unit_name(const std::string& name);

/// Where --install writes the unit: /etc/systemd/system/<name>.service, or for
/// a user unit <config_home>/systemd/user/<name>.service, config_home being
/// $XDG_CONFIG_HOME or else $HOME/.config (the caller passes it).
std::string unit_install_path(const std::string& name, bool user_unit,
                              const std::string& config_home);

/// What to run after installing: `systemctl [--user ]daemon-reload &&
/// systemctl [--user ]enable --now <name>`.
std::string enable_command(const std::string& name, bool user_unit);

} // namespace arbor::cli
