#include "os/terminate.hpp"

#include <csignal>
#include <thread>

#include "os/proc_read.hpp"

namespace arbor::os {

namespace {

void signal_each(const std::vector<proc_ref>& procs, int sig) {
  for (auto& p : procs) {
    if (!alive(p)) continue;
    proc_brief b;
    if (read_brief(p.pid, b) && b.pgrp == p.pid) ::kill(-p.pid, sig);
    ::kill(p.pid, sig);
  }
}

/// Polls until every process is gone or `grace` passed; true if all are gone.
bool wait_gone(const std::vector<proc_ref>& procs, std::chrono::milliseconds grace) {
  auto until = std::chrono::steady_clock::now() + grace;
  for (;;) {
    bool any = false;
    for (auto& p : procs) any = any || alive(p);
    if (!any) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void finish(const std::vector<proc_ref>& procs, std::chrono::milliseconds grace) {
  if (wait_gone(procs, grace)) return;
  signal_each(procs, SIGKILL);
  wait_gone(procs, std::chrono::seconds(5));
}

} // namespace

bool alive(const proc_ref& p) {
  proc_brief b;
  return p.pid > 0 && read_brief(p.pid, b) && b.start == p.start && b.state != 'Z'
         && b.state != 'X';
}

void terminate(std::vector<proc_ref> procs, int sig, std::chrono::milliseconds grace, bool wait) {
  if (procs.empty()) return;
  signal_each(procs, sig);
  if (wait) return finish(procs, grace);
  try {
    std::thread([procs, grace] { finish(procs, grace); }).detach();
  } catch (const std::exception&) {
    signal_each(procs, SIGKILL); // no thread to wait with: no grace either
  }
}

} // namespace arbor::os
