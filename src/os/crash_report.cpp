#include "os/crash_report.hpp"

#include <csignal>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include <dlfcn.h>
#include <unwind.h>
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

void put_hex(uintptr_t v) {
  char buf[2 + 2 * sizeof v + 1];
  char* p = buf + sizeof buf;
  *--p = '\0';
  do {
    *--p = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  *--p = 'x';
  *--p = '0';
  put(p);
}

/// The return addresses of the calling thread's stack, from libgcc's
/// unwinder directly (glibc's backtrace() is a wrapper that dlopen()s it).
struct frames {
  uintptr_t pc[64];
  int n = 0;
};

_Unwind_Reason_Code collect(_Unwind_Context* ctx, void* arg) {
  auto* f = static_cast<frames*>(arg);
  if (f->n == 64) return _URC_END_OF_STACK;
  f->pc[f->n++] = static_cast<uintptr_t>(_Unwind_GetIP(ctx));
  return _URC_NO_REASON;
}

/// "/path/to/object(symbol+0x1c)[0x7f...]" per frame, as backtrace_symbols_fd.
void put_frames(const frames& f) {
  for (int i = 0; i < f.n; ++i) {
    if (f.pc[i] == 0) continue; // the end of the outermost frame
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(f.pc[i]), &info) != 0 && info.dli_fname != nullptr) {
      put(info.dli_fname);
      put("(");
      if (info.dli_sname != nullptr) {
        put(info.dli_sname);
        put("+");
        put_hex(f.pc[i] - reinterpret_cast<uintptr_t>(info.dli_saddr));
      } else {
        put("+");
        put_hex(f.pc[i] - reinterpret_cast<uintptr_t>(info.dli_fbase));
      }
      put(")");
    }
    put("[");
    put_hex(f.pc[i]);
    put("]\n");
  }
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
  frames f;
  _Unwind_Backtrace(collect, &f);
  put_frames(f);
  errno = saved;
  // Default action now: the re-raised signal (unblocked on return from this
  // handler, which SA_RESETHAND left at SIG_DFL) terminates with the right
  // status and a core where enabled.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

} // namespace

void install_crash_report() {
  frames warm; // binds the unwinder's symbols now, not inside the handler
  _Unwind_Backtrace(collect, &warm);
  struct sigaction sa {};
  sa.sa_handler = on_fatal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    ::sigaction(sig, &sa, nullptr);
}

} // namespace arbor::os
