/*
 * floor.c - the "floor" for gocker's start-up benchmark.
 *
 * Does only what a container start needs, and nothing else, so that its
 * time is a lower bound for any runtime doing the same steps:
 *
 *   clone(NEWNS|NEWUTS|NEWIPC|NEWPID|NEWNET)
 *   child:  mount --make-rprivate /
 *           bind ROOTFS onto itself, chdir into it
 *           pivot_root(".", "."), umount2(".", MNT_DETACH)
 *           mount proc on /proc (nosuid,nodev,noexec)
 *           sethostname
 *           execv CMD
 *   parent: waits, returns the child's exit status.
 *
 * With --cgroup it also creates a cgroup v1 cpu+memory pair
 * (/sys/fs/cgroup/{cpu,memory}/floor-<pid>), sets a 1-CPU quota and a
 * 64 MiB memory limit, moves the child in before it execs (pipe
 * handshake) and removes both groups after the child exits.
 *
 * With --overlay the root is a copy-on-write overlay of ROOTFS instead of ROOTFS
 * itself, the least an overlay root needs: the rootfs held by an fd, a tmpfs mounted
 * over the rootfs's path (in the container's private mount namespace only) with
 * upper/, work/ and merged/ in it, and the overlay (lowerdir=/proc/self/fd/N) on
 * merged/, which is then bound and pivoted into as above. Nothing is made on the host.
 *
 * Usage: floor [--cgroup] [--overlay] ROOTFS CMD [ARG...]
 * Build: cc -O2 -o floor floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (256 * 1024)
#define CG_ROOT "/sys/fs/cgroup"

struct child_args {
	const char *rootfs;
	int overlay;
	char **argv;
	int sync_fd; /* read end of the handshake pipe, or -1 */
};

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	_exit(127);
}

static int child_main(void *p)
{
	struct child_args *a = p;
	static const char hostname[] = "floor";

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make-rprivate /");
	if (a->overlay) {
		char opts[512], merged[4096];
		int lower = open(a->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (lower < 0)
			die("open rootfs");
		if (mount("tmpfs", a->rootfs, "tmpfs", 0, "mode=700") < 0)
			die("mount layer tmpfs");
		if (chdir(a->rootfs) < 0)
			die("chdir layer");
		if (mkdir("upper", 0755) < 0 || mkdir("work", 0700) < 0 ||
		    mkdir("merged", 0755) < 0)
			die("mkdir layer");
		snprintf(opts, sizeof(opts),
			 "lowerdir=/proc/self/fd/%d,upperdir=upper,workdir=work",
			 lower);
		if (mount("overlay", "merged", "overlay", 0, opts) < 0)
			die("mount overlay");
		close(lower);
		snprintf(merged, sizeof(merged), "%s/merged", a->rootfs);
		if (chdir(merged) < 0)
			die("chdir merged");
	} else {
		if (mount(a->rootfs, a->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
			die("bind rootfs");
		if (chdir(a->rootfs) < 0)
			die("chdir rootfs");
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die("umount old root");
	if (chdir("/") < 0)
		die("chdir /");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		die("mount /proc");
	if (sethostname(hostname, sizeof(hostname) - 1) < 0)
		die("sethostname");

	if (a->sync_fd >= 0) {
		/* Wait until the parent has put us in the cgroups. */
		char c;
		ssize_t n;

		do {
			n = read(a->sync_fd, &c, 1);
		} while (n < 0 && errno == EINTR);
		if (n != 1) {
			fprintf(stderr, "floor: parent did not set up cgroups\n");
			_exit(127);
		}
		close(a->sync_fd);
	}

	execv(a->argv[0], a->argv);
	die(a->argv[0]);
	return 127;
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd;
	ssize_t len = (ssize_t)strlen(val);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "floor: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (write(fd, val, (size_t)len) != len) {
		fprintf(stderr, "floor: write %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct child_args a = { .sync_fd = -1 };
	int use_cgroup = 0, argi = 1, pipefd[2] = { -1, -1 };
	char cpu_dir[256], mem_dir[256], pidbuf[32];
	char *stack;
	pid_t child;
	int status, ret;

	for (; argi < argc; argi++) {
		if (strcmp(argv[argi], "--cgroup") == 0)
			use_cgroup = 1;
		else if (strcmp(argv[argi], "--overlay") == 0)
			a.overlay = 1;
		else
			break;
	}
	if (argc - argi < 2) {
		fprintf(stderr,
			"usage: %s [--cgroup] [--overlay] ROOTFS CMD [ARG...]\n",
			argv[0]);
		return 2;
	}
	a.rootfs = argv[argi];
	a.argv = &argv[argi + 1];

	if (use_cgroup) {
		snprintf(cpu_dir, sizeof(cpu_dir), CG_ROOT "/cpu/floor-%d",
			 (int)getpid());
		snprintf(mem_dir, sizeof(mem_dir), CG_ROOT "/memory/floor-%d",
			 (int)getpid());
		if (mkdir(cpu_dir, 0755) < 0 && errno != EEXIST)
			die(cpu_dir);
		if (mkdir(mem_dir, 0755) < 0 && errno != EEXIST)
			die(mem_dir);
		/* Quota before period: both 100ms, so either order is valid. */
		if (write_file(cpu_dir, "cpu.cfs_quota_us", "100000") < 0 ||
		    write_file(cpu_dir, "cpu.cfs_period_us", "100000") < 0 ||
		    write_file(mem_dir, "memory.limit_in_bytes", "67108864") < 0)
			return 127;
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			die("pipe");
		a.sync_fd = pipefd[0];
	}

	stack = malloc(STACK_SIZE);
	if (!stack)
		die("malloc");
	child = clone(child_main, stack + STACK_SIZE,
		      CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID |
			      CLONE_NEWNET | SIGCHLD,
		      &a);
	if (child < 0)
		die("clone");

	if (use_cgroup) {
		close(pipefd[0]);
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)child);
		if (write_file(cpu_dir, "cgroup.procs", pidbuf) < 0 ||
		    write_file(mem_dir, "cgroup.procs", pidbuf) < 0) {
			kill(child, SIGKILL);
		} else if (write(pipefd[1], "x", 1) != 1) {
			kill(child, SIGKILL);
		}
		close(pipefd[1]);
	}

	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}

	if (use_cgroup) {
		if (rmdir(cpu_dir) < 0)
			fprintf(stderr, "floor: rmdir %s: %s\n", cpu_dir,
				strerror(errno));
		if (rmdir(mem_dir) < 0)
			fprintf(stderr, "floor: rmdir %s: %s\n", mem_dir,
				strerror(errno));
	}

	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		ret = 128 + WTERMSIG(status);
	else
		ret = 127;
	return ret;
}
