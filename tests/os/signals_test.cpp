#include <catch2/catch.hpp>

#include "os/signals.hpp"

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <initializer_list>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <unistd.h>

using namespace arbor::os;

TEST_CASE("signals: block + signalfd delivers a raised SIGTERM", "[signals]") {
  sigset_t old_mask;
  REQUIRE(pthread_sigmask(SIG_SETMASK, nullptr, &old_mask) == 0);
  struct sigaction old_pipe {};
  REQUIRE(sigaction(SIGPIPE, nullptr, &old_pipe) == 0);

  sigset_t set = block_control_signals();
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT})
    CHECK(sigismember(&set, sig) == 1);
  // Blocked, but not for the control signalfd: the exit watcher reads it.
  CHECK(sigismember(&set, SIGCHLD) == 0);
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

TEST_CASE("signals: blocked_in_every_thread sees every thread's mask", "[signals]") {
  sigset_t old_mask;
  REQUIRE(pthread_sigmask(SIG_SETMASK, nullptr, &old_mask) == 0);
  sigset_t usr;
  sigemptyset(&usr);
  sigaddset(&usr, SIGUSR2);
  REQUIRE(pthread_sigmask(SIG_UNBLOCK, &usr, nullptr) == 0);
  CHECK_FALSE(blocked_in_every_thread(SIGUSR2));
  REQUIRE(pthread_sigmask(SIG_BLOCK, &usr, nullptr) == 0);
  CHECK(blocked_in_every_thread(SIGUSR2));

  // A thread that unblocks it spoils it for the process.
  std::mutex mtx;
  std::condition_variable cv;
  bool unblocked = false, done = false;
  std::thread t([&] {
    pthread_sigmask(SIG_UNBLOCK, &usr, nullptr);
    std::unique_lock<std::mutex> lock{mtx};
    unblocked = true;
    cv.notify_all();
    cv.wait(lock, [&] { return done; });
  });
  {
    std::unique_lock<std::mutex> lock{mtx};
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return unblocked; }));
  }
  CHECK_FALSE(blocked_in_every_thread(SIGUSR2));
  {
    std::lock_guard<std::mutex> guard{mtx};
    done = true;
  }
  cv.notify_all();
  t.join();
  // The thread is gone (its /proc entry may outlive the join by a moment).
  bool all = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !(all = blocked_in_every_thread(SIGUSR2)) && std::chrono::steady_clock::now() < until;)
    std::this_thread::yield();
  CHECK(all);
  CHECK_FALSE(blocked_in_every_thread(0));
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}
