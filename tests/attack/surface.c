/* What a root process inside a container tries against the kernel's surface: the
 * keyring, blocked system calls, namespace-making clones, device nodes. Each mode makes
 * one attempt with raw system calls and prints "MODE ok" or "MODE ERRNO_NAME"; the test
 * decides what is expected. Built static by tests/kernel_surface.rs (gcc -static), so it
 * runs in a busybox root. No libc wrapper stands between the call and the kernel's
 * answer, so the errno is the filter's (or the kernel's) own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *mode, long r) {
    if (r < 0) {
        printf("%s %s\n", mode, strerrorname_np(errno));
        return 1;
    }
    printf("%s ok\n", mode);
    return 0;
}

/* A child made with these clone flags exits at once; the parent reaps it. */
static long clone_child(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        waitpid((pid_t)pid, NULL, 0);
    return pid;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: surface MODE [ARGS]\n");
        return 2;
    }
    const char *m = argv[1];
    if (!strcmp(m, "keyring-read")) /* host root's user keyring: per uid, not per namespace */
        return report(m, syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0));
    if (!strcmp(m, "keyring-write")) /* plant a key in it */
        return report(m, syscall(SYS_add_key, "user", argc > 2 ? argv[2] : "gocker-attack", "x", 1,
                                 KEY_SPEC_USER_KEYRING));
    if (!strcmp(m, "request-key"))
        return report(m, syscall(SYS_request_key, "user", "gocker-attack", NULL, KEY_SPEC_USER_KEYRING));
    if (!strcmp(m, "session-id")) { /* which session keyring is ours */
        long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
        if (id < 0)
            return report(m, id);
        printf("session-id %ld\n", id);
        return 0;
    }
    if (!strcmp(m, "session-write")) /* a key in the container's own session keyring */
        return report(m, syscall(SYS_add_key, "user", "gocker-session", "x", 1, KEY_SPEC_SESSION_KEYRING));
    if (!strcmp(m, "user-has") && argc == 3) /* host side: is key argv[2] in the user keyring? */
        return report(m, syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", argv[2], 0));
    if (!strcmp(m, "session-has") && argc == 3) /* and in the session keyring? */
        return report(m, syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", argv[2], 0));
    if (!strcmp(m, "bpf")) { /* BPF_PROG_LOAD of nothing: EINVAL when the call is open at all */
        char attr[128] = {0};
        return report(m, syscall(SYS_bpf, 5, attr, sizeof attr));
    }
    if (!strcmp(m, "perf")) { /* a software counter on ourselves, user space only */
        struct perf_event_attr a = {0};
        a.type = PERF_TYPE_SOFTWARE;
        a.size = sizeof a;
        a.config = PERF_COUNT_SW_TASK_CLOCK;
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        return report(m, syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
    }
    if (!strcmp(m, "userfaultfd")) /* UFFD_USER_MODE_ONLY: allowed without privileges */
        return report(m, syscall(SYS_userfaultfd, O_CLOEXEC | 1));
    if (!strcmp(m, "kexec"))
        return report(m, syscall(SYS_kexec_load, 0, 0, NULL, 0));
    if (!strcmp(m, "init-module"))
        return report(m, syscall(SYS_init_module, NULL, 0, ""));
    if (!strcmp(m, "mount"))
        return report(m, syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(m, "unshare-user"))
        return report(m, syscall(SYS_unshare, CLONE_NEWUSER));
    if (!strcmp(m, "clone-newuser"))
        return report(m, clone_child(CLONE_NEWUSER));
    if (!strcmp(m, "clone-plain")) /* fork, as every shell does */
        return report(m, clone_child(0));
    if (!strcmp(m, "clone3")) {
        struct clone_args ca = {0};
        ca.exit_signal = SIGCHLD;
        long pid = syscall(SYS_clone3, &ca, sizeof ca);
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            waitpid((pid_t)pid, NULL, 0);
        return report(m, pid);
    }
    if (!strcmp(m, "personality")) /* READ_IMPLIES_EXEC */
        return report(m, syscall(SYS_personality, 0x0400000));
    if (!strcmp(m, "mknod") && argc == 6) { /* mknod PATH b|c MAJOR MINOR */
        mode_t type = argv[3][0] == 'b' ? S_IFBLK : S_IFCHR;
        dev_t dev = makedev(atoi(argv[4]), atoi(argv[5]));
        return report(m, syscall(SYS_mknodat, AT_FDCWD, argv[2], type | 0600, dev));
    }
    if (!strcmp(m, "open") && argc == 3) /* open PATH read-write */
        return report(m, syscall(SYS_openat, AT_FDCWD, argv[2], O_RDWR | O_NONBLOCK));
    fprintf(stderr, "surface: unknown mode %s\n", m);
    return 2;
}
