#include "os/crash_report.hpp"

#include <csignal>
#include <cerrno>
#include <cstring>
#include <initializer_list>

#include <execinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace arbor::os {

namespace {

void put(const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

/// Decimal without allocation (async-signal-safe).
void put_number(long v) {
  char buf[24];
  char* p = buf + sizeof buf;
  *--p = '\0';
  bool neg = v < 0;
  unsigned long u = neg ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (neg) *--p = '-';
  put(p);
}

const char* name_of(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
  }
}

void on_fatal(int sig) {
  int saved = errno;
  put("arbor: fatal signal ");
  put(name_of(sig));
  put(" in thread ");
  put_number(static_cast<long>(::syscall(SYS_gettid)));
  put(" of pid ");
  put_number(static_cast<long>(::getpid()));
  put("; backtrace:\n");
  void* frames[64];
  int n = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
  errno = saved;
  // Default action now: the re-raised signal (unblocked on return from this
  // handler, which SA_RESETHAND left at SIG_DFL) terminates with the right
  // status and a core where enabled.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

} // namespace

void install_crash_report() {
  void* warm[1];
  (void) ::backtrace(warm, 1); // loads libgcc_s now, not inside the handler
  struct sigaction sa {};
  sa.sa_handler = on_fatal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    ::sigaction(sig, &sa, nullptr);
}

} // namespace arbor::os
