#include "cli/systemd_unit.hpp"

#include <cstdio>

namespace arbor::cli {

namespace {

/// `%` doubled (systemd expands specifiers in most settings), and `$` too
/// where the setting substitutes variables (ExecStart's arguments).
std::string escape_specials(const std::string& s, bool dollar) {
  std::string out;
  for (char c : s) {
    if (c == '%' || (dollar && c == '$')) out += c;
    out += c;
  }
  return out;
}

/// One word of a whitespace-split setting (ExecStart, Environment): as is when
/// the splitter would leave it alone, else double-quoted with C escapes.
std::string unit_word(const std::string& s, bool dollar) {
  bool plain = !s.empty();
  for (unsigned char c : s)
    if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '\\' || c == ';') plain = false;
  auto text = escape_specials(s, dollar);
  if (plain) return text;
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < ' ' || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

/// Free text on one line (Description, comments): control characters become
/// spaces.
std::string one_line(const std::string& s) {
  std::string out = s;
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) c = ' ';
  return out;
}

void sum_kill_timeouts(const group_spec& g, std::chrono::milliseconds& total) {
  for (auto& c : g.children) {
    if (c.type == node_spec::kind::group)
      sum_kill_timeouts(c.group, total);
    else
      total += c.app.kill_timeout;
  }
}

} // namespace

std::string render_unit(const unit_options& o) {
  std::string u;
  auto line = [&u](const std::string& s) { u += s + "\n"; };
  line("# " + one_line(o.name) + ".service, written by `arbor startup` for "
       + one_line(o.config_file));
  line("[Unit]");
  line("Description=arbor process manager (" + escape_specials(one_line(o.config_file), false)
       + ")");
  // The apps are usually network services; a user manager has no network.target.
  if (!o.user_unit) line("After=network.target");
  line("");
  line("[Service]");
  // READY=1 once the tree is up, STOPPING=1 when shutdown begins; only the
  // daemon itself may notify (the apps never see NOTIFY_SOCKET).
  line("Type=notify");
  line("NotifyAccess=main");
  // systemd substitutes $VARS in the arguments only, not in the binary's path.
  line("ExecStart=" + unit_word(o.daemon, false) + " daemon " + unit_word(o.config_file, true)
       + (o.env.empty() ? "" : " --env " + unit_word(o.env, true)));
  line("Environment=" + unit_word("ARBOR_HOME=" + o.home, false));
  if (!o.path.empty()) line("Environment=" + unit_word("PATH=" + o.path, false));
  line("WorkingDirectory=/");
  if (!o.run_as.empty() && !o.user_unit) line("User=" + escape_specials(o.run_as, false));
  // SIGTERM to the daemon alone: it stops the apps in reverse start order
  // with their kill_signal and kill_timeout; whatever is left at the end of
  // TimeoutStopSec gets SIGKILL.
  line("KillMode=mixed");
  // The unit's cgroup is arbor's to divide: a cgroup per run, with the
  // controllers its apps' limits need (memory_max, cpu_max, pids_max).
  line("Delegate=yes");
  line("KillSignal=SIGTERM");
  line("TimeoutStopSec=" + std::to_string(o.stop_timeout.count()) + "s");
  line("Restart=on-failure");
  line("RestartSec=1");
  // A config with errors (exit 2) stays broken however often it restarts.
  line("RestartPreventExitStatus=2");
  line("");
  line("[Install]");
  line(std::string("WantedBy=") + (o.user_unit ? "default.target" : "multi-user.target"));
  return u;
}

std::chrono::seconds stop_timeout_for(const tree_spec& tree) {
  std::chrono::milliseconds total{30000};
  sum_kill_timeouts(tree.root, total);
  return std::chrono::ceil<std::chrono::seconds>(total);
}

bool valid_unit_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name[0] == '.' || name[0] == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == ':' || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string unit_install_path(const std::string& name, bool user_unit,
                              const std::string& config_home) {
  auto dir = user_unit ? config_home + "/systemd/user" : std::string{"/etc/systemd/system"};
  return dir + "/" + name + ".service";
}

std::string enable_command(const std::string& name, bool user_unit) {
  std::string sc = user_unit ? "systemctl --user " : "systemctl ";
  return sc + "daemon-reload && " + sc + "enable --now " + name;
}

} // namespace arbor::cli
