#include "os/spawn_clone.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <mutex>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

// -DARBOR_NO_CLONE_SPAWN builds without it (posix_spawn only; for A/B runs).
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__)) \
  && !defined(ARBOR_NO_CLONE_SPAWN)
#define ARBOR_CLONE_SPAWN 1
#endif

#if defined(ARBOR_CLONE_SPAWN) && defined(__x86_64__)
#define ARBOR_CLONE3 1
// clone3 for a child on a stack of its own: glibc 2.36 has no wrapper, and
// syscall() cannot return into a caller on another stack. (args, size, fn,
// arg): the parent gets the pid or -errno; the child calls fn(arg) on the
// new stack and exits with its result.
extern "C" long arbor_clone3(void* args, unsigned long size, int (*fn)(void*), void* arg);
asm(R"(
  .text
  .globl arbor_clone3
  .type arbor_clone3, @function
arbor_clone3:
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jnz 1f
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  hlt
1:
  ret
  .size arbor_clone3, .-arbor_clone3
  .section .note.GNU-stack,"",@progbits
  .text
)");
#endif

namespace arbor::os::detail {

#ifdef ARBOR_CLONE_SPAWN

namespace {

/// The kernel's struct sigaction on x86_64 and aarch64 (no libc translation:
/// glibc's sigaction() refuses its two internal signals).
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};
constexpr size_t kernel_sigset_size = sizeof(uint64_t);
constexpr int last_signal = 64;
constexpr size_t stack_size = 64 * 1024;

/// The slots, the child's stack and the lock; made once, never destroyed (a
/// spawn may run while statics are torn down).
struct spawner {
  std::mutex mtx;
  int out = -1, err = -1, null = -1, top = -1;
  int sock[max_listen_fds] = {};  ///< slots for listening sockets
  char* stack_top = nullptr;
  bool usable = false;  // guarded by mtx after construction
};

spawner* make_spawner() {
  auto* s = new spawner;
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return s;
  if (null < 3) { // stdio was closed: keep our slots out of 0..2 anyway
    int moved = ::fcntl(null, F_DUPFD_CLOEXEC, 3);
    ::close(null);
    if (moved < 0)
      return s;
    null = moved;
  }
  s->null = null;
  s->out = ::fcntl(null, F_DUPFD_CLOEXEC, 3);
  s->err = ::fcntl(null, F_DUPFD_CLOEXEC, 3);
  int top = std::max(s->null, std::max(s->out, s->err));
  for (auto& slot : s->sock) {
    slot = ::fcntl(null, F_DUPFD_CLOEXEC, 3);
    if (slot < 0)
      return s;
    top = std::max(top, slot);
  }
  const long page = ::sysconf(_SC_PAGESIZE);
  void* mem = ::mmap(nullptr, stack_size + static_cast<size_t>(page), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (s->out < 0 || s->err < 0 || mem == MAP_FAILED)
    return s;
  ::mprotect(mem, static_cast<size_t>(page), PROT_NONE); // a guard page below the stack
  s->stack_top = static_cast<char*>(mem) + page + stack_size;
  s->top = top;
  s->usable = true;
  return s;
}

spawner& the_spawner() {
  static spawner* s = make_spawner();
  return *s;
}

// Reserve the slots while the process has few descriptors: 3, 4 and 5 as a
// rule (static initialisation runs before main opens anything).
[[maybe_unused]] const bool slots_reserved = (the_spawner(), true);

/// The kernel's struct clone_args (its version 2 layout, with `cgroup`).
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
    set_tid_size, cgroup;
};
constexpr uint64_t clone_into_cgroup = 0x200000000ULL;

struct child_ctx {
  const clone_request* r;
  int out, err, null, top;
  const int* sock;                    // the slots holding r->listen_count sockets
  int error = 0;                      // written by the child when a step fails
  clone_step step = clone_step::none;
  credential_step cred_step = credential_step::none;
  size_t cred_index = 0;
};

[[noreturn]] void fail(child_ctx* c, clone_step step) {
  c->error = errno; // the parent's thread's errno (shared TLS): it is suspended
  c->step = step;
  ::_exit(127);
}

/// Puts the listening sockets at 3, 4, ... (inheritable), by way of the
/// numbers above `top` (free in the private table): a slot may sit in 3..3+n-1
/// itself. Then every other descriptor >= 3+n goes. False on a failed call.
bool place_sockets(const child_ctx* c) {
  const size_t n = c->r->listen_count;
  for (size_t i = 0; i < n; ++i)
    if (::syscall(SYS_dup3, c->sock[i], c->top + 1 + static_cast<int>(i), O_CLOEXEC) < 0)
      return false;
  for (size_t i = 0; i < n; ++i)
    if (::syscall(SYS_dup3, c->top + 1 + static_cast<int>(i), 3 + static_cast<int>(i), 0) < 0)
      return false;
  return ::syscall(SYS_close_range, 3U + static_cast<unsigned>(n), ~0U, 0U) == 0;
}

/// Writes this process's pid, in decimal and NUL-terminated, at `at`.
void write_own_pid(char* at) {
  auto pid = static_cast<unsigned long>(::syscall(SYS_getpid));
  char digits[listen_pid_digits];
  size_t len = 0;
  do {
    digits[len++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid != 0 && len < listen_pid_digits);
  for (size_t i = 0; i < len; ++i) at[i] = digits[len - 1 - i];
  at[len] = '\0';
}

/// Writes this process into each cgroup.procs file ("0": the writer).
bool join_cgroups(const char* const* files) {
  for (; *files; ++files) {
    long fd = ::syscall(SYS_openat, AT_FDCWD, *files, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    long n = ::syscall(SYS_write, fd, "0", 1);
    ::syscall(SYS_close, fd);
    if (n != 1) return false;
  }
  return true;
}

/// The kernel's struct rlimit64 (prlimit64).
struct kernel_rlimit {
  uint64_t cur, max;
};

/// Applies `c->r->creds`, in the order credentials.hpp gives; false with
/// c->cred_step (and errno) set at the first failed step.
bool apply_credentials(child_ctx* c) {
  const child_credentials& k = *c->r->creds;
  auto failed = [c](credential_step step) {
    c->cred_step = step;
    return false;
  };
  for (size_t i = 0; i < k.limits.size(); ++i) {
    const kernel_rlimit lim{k.limits[i].soft, k.limits[i].hard};
    c->cred_index = i;
    if (::syscall(SYS_prlimit64, 0, k.limits[i].resource, &lim, nullptr) != 0)
      return failed(credential_step::rlimit);
  }
  if (k.set_nice && ::syscall(SYS_setpriority, PRIO_PROCESS, 0, k.nice) != 0)
    return failed(credential_step::nice);
  if (k.set_oom) {
    const long fd =
      ::syscall(SYS_openat, AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    const bool written =
      fd >= 0 && ::syscall(SYS_write, fd, k.oom_text, k.oom_len) == static_cast<long>(k.oom_len);
    if (fd >= 0) ::syscall(SYS_close, fd);
    if (!written) return failed(credential_step::oom_score_adj);
  }
  if (k.set_umask) ::syscall(SYS_umask, k.umask);
  if (!k.set_ids) return true;
  if (::syscall(SYS_setgroups, k.groups.size(), k.groups.data()) != 0)
    return failed(credential_step::groups);
  if (::syscall(SYS_setgid, k.gid) != 0) return failed(credential_step::gid);
  if (::syscall(SYS_setuid, k.uid) != 0) return failed(credential_step::uid);
  return true;
}

/// The child, up to execve. Raw system calls only: it runs on the parent's
/// memory, with every signal blocked until the dispositions are reset.
int child_main(void* arg) {
  auto* c = static_cast<child_ctx*>(arg);
  const kernel_sigaction dfl{}; // SIG_DFL
  for (int sig = 1; sig <= last_signal; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP)
      ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, kernel_sigset_size);
  }
  // A private table with 0..top only; until this succeeds the table is the
  // parent's, so nothing may be changed in it before.
  if (::syscall(SYS_close_range, static_cast<unsigned>(c->top + 1), ~0U, CLOSE_RANGE_UNSHARE)
      != 0)
    fail(c, clone_step::unavailable);
  if (::syscall(SYS_dup3, c->out, STDOUT_FILENO, 0) < 0
      || ::syscall(SYS_dup3, c->err, STDERR_FILENO, 0) < 0
      || ::syscall(SYS_dup3, c->null, STDIN_FILENO, 0) < 0 || !place_sockets(c))
    fail(c, clone_step::files);
  if (c->r->listen_pid_at) write_own_pid(c->r->listen_pid_at);
  if (c->r->cwd && ::syscall(SYS_chdir, c->r->cwd) != 0)
    fail(c, clone_step::chdir);
  if (::syscall(SYS_setpgid, 0, 0) != 0)
    fail(c, clone_step::pgroup);
  if (c->r->join && !join_cgroups(c->r->join))
    fail(c, clone_step::cgroup);
  if (c->r->creds && !apply_credentials(c))
    fail(c, clone_step::credentials);
  const uint64_t none = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, kernel_sigset_size);
  ::syscall(SYS_execve, c->r->path, c->r->argv, c->r->envp);
  fail(c, clone_step::exec);
}

} // namespace

clone_result clone_spawn(const clone_request& r) {
  clone_result res;
  spawner& s = the_spawner();
  std::lock_guard<std::mutex> guard{s.mtx};
  if (!s.usable) {
    res.step = clone_step::unavailable;
    return res;
  }
  const int out = r.stdout_fd >= 0 ? r.stdout_fd : s.null;
  const int err = r.stderr_fd >= 0 ? r.stderr_fd : s.null;
  if (r.listen_count > max_listen_fds) {
    res.error = EMFILE;
    res.step = clone_step::setup;
    return res;
  }
  auto release = [&] { // the slots hold no pipe nor socket between spawns
    ::dup3(s.null, s.out, O_CLOEXEC);
    ::dup3(s.null, s.err, O_CLOEXEC);
    for (size_t i = 0; i < r.listen_count; ++i) ::dup3(s.null, s.sock[i], O_CLOEXEC);
  };
  bool placed = true;
  for (size_t i = 0; i < r.listen_count && placed; ++i)
    placed = ::dup3(r.listen_fds[i], s.sock[i], O_CLOEXEC) >= 0;
  if (!placed || ::dup3(out, s.out, O_CLOEXEC) < 0 || ::dup3(err, s.err, O_CLOEXEC) < 0) {
    res.error = errno;
    res.step = clone_step::setup;
    release();
    return res;
  }
  child_ctx c{&r, s.out, s.err, s.null, s.top, s.sock};
  // Every signal blocked, glibc's internal ones too: no handler may run in
  // the child before it has reset the dispositions.
  const uint64_t all = ~uint64_t{0};
  uint64_t old = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, kernel_sigset_size);
  pid_t pid = -1;
  int clone_errno = 0;
  const uint64_t flags = CLONE_VM | CLONE_VFORK | CLONE_FILES;
#ifdef ARBOR_CLONE3
  if (r.cgroup_fd >= 0) {
    clone3_args args{};
    args.flags = flags | clone_into_cgroup;
    args.exit_signal = SIGCHLD;
    args.stack = reinterpret_cast<uint64_t>(s.stack_top - stack_size);
    args.stack_size = stack_size;
    args.cgroup = static_cast<uint64_t>(r.cgroup_fd);
    long rc = arbor_clone3(&args, sizeof args, child_main, &c);
    pid = rc < 0 ? -1 : static_cast<pid_t>(rc);
    clone_errno = rc < 0 ? static_cast<int>(-rc) : 0;
    if (rc < 0) c.step = clone_step::cgroup;
  } else
#endif
  {
    pid = ::clone(child_main, s.stack_top, static_cast<int>(flags) | SIGCHLD, &c);
    clone_errno = errno;
  }
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, kernel_sigset_size);
  release();
  if (pid < 0) {
    res.error = clone_errno;
    res.step = c.step == clone_step::cgroup ? c.step : clone_step::setup;
    return res;
  }
  // CLONE_VFORK: the child has exec'd or exited by now, and `c` says which.
  if (c.step != clone_step::none) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (c.step == clone_step::unavailable) {
      // No private table: this spawn goes through posix_spawn, and so does
      // every later one where the kernel lacks CLOSE_RANGE_UNSHARE (Linux <
      // 5.9: EINVAL, ENOSYS) or a seccomp filter refuses it (EPERM).
      if (c.error == EINVAL || c.error == ENOSYS || c.error == EPERM)
        s.usable = false;
      res.step = clone_step::unavailable;
      return res;
    }
    res.error = c.error;
    res.step = c.step;
    res.cred_step = c.cred_step;
    res.cred_index = c.cred_index;
    return res;
  }
  res.pid = pid;
  return res;
}

bool clone_into_cgroup_supported() {
#ifdef ARBOR_CLONE3
  return true;
#else
  return false;
#endif
}

#else // not Linux on x86_64/aarch64

bool clone_into_cgroup_supported() { return false; }

clone_result clone_spawn(const clone_request&) {
  clone_result res;
  res.step = clone_step::unavailable;
  return res;
}

#endif

} // namespace arbor::os::detail
