/* berth-pause: the init process of a pod sandbox. It keeps the sandbox's namespaces alive, reaps
 * the zombies that are handed to it, and exits 0 on SIGTERM or SIGINT. Every signal is blocked and
 * taken with sigwait, so nothing runs in a signal handler. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap_all(void) {
  for (;;) {
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    if (pid > 0) continue;
    if (pid < 0 && errno == EINTR) continue;
    return;
  }
}

int main(int argc, char** argv) {
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "usage: berth-pause (no arguments)\n");
    return 2;
  }

  sigset_t all;
  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, NULL) != 0) {
    perror("berth-pause: sigprocmask");
    return 1;
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&all, &sig) != 0) continue;
    switch (sig) {
      case SIGCHLD:
        reap_all();
        break;
      case SIGTERM:
      case SIGINT:
        reap_all();
        return 0;
      default:
        break;
    }
  }
}
