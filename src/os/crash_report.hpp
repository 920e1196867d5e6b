#pragma once

// A last word before a fatal signal: which signal, which thread, and a
// backtrace on stderr (the daemon's stderr is its log), then the default
// action (core dump where enabled). For operators and for CI: a daemon that
// dies of SIGSEGV or an abort should not vanish without a trace.

namespace arbor::os {

/// Installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT that
/// write "arbor: fatal signal SIGSEGV in thread <tid> of pid <pid>" and a
/// backtrace to stderr using only async-signal-safe calls (after one warm-up
/// of backtrace() here, so its library is loaded), then re-raise the signal
/// with the default disposition. Call it once, early in main.
void install_crash_report();

} // namespace arbor::os
