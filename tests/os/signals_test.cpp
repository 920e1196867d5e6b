#include <catch2/catch.hpp>

#include "os/signals.hpp"

#include <csignal>
#include <initializer_list>

#include <pthread.h>
#include <unistd.h>

using namespace arbor::os;

TEST_CASE("signals: block + signalfd delivers a raised SIGTERM", "[signals]") {
  sigset_t old_mask;
  REQUIRE(pthread_sigmask(SIG_SETMASK, nullptr, &old_mask) == 0);
  struct sigaction old_pipe {};
  REQUIRE(sigaction(SIGPIPE, nullptr, &old_pipe) == 0);

  sigset_t set = block_control_signals();
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD})
    CHECK(sigismember(&set, sig) == 1);
  sigset_t now;
  REQUIRE(pthread_sigmask(SIG_SETMASK, nullptr, &now) == 0);
  CHECK(sigismember(&now, SIGTERM) == 1);
  CHECK(sigismember(&now, SIGCHLD) == 1);
  struct sigaction pipe_now {};
  REQUIRE(sigaction(SIGPIPE, nullptr, &pipe_now) == 0);
  CHECK(pipe_now.sa_handler == SIG_IGN);

  int fd = open_signalfd(set);
  REQUIRE(fd >= 0);
  // Drain anything already pending (e.g. SIGCHLD from earlier tests).
  while (read_signal(fd) > 0) {
  }
  CHECK(read_signal(fd) == 0);

  REQUIRE(raise(SIGTERM) == 0); // blocked: stays pending for the signalfd
  int got = 0;
  for (int sig; (sig = read_signal(fd)) > 0;)
    if (sig == SIGTERM)
      got = sig;
  CHECK(got == SIGTERM);
  CHECK(read_signal(fd) == 0);

  close(fd);
  CHECK(read_signal(fd) == -1);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}
