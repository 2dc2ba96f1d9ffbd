/*
 * The sandbox test hook: performs one named syscall so a test can show
 * that a sandboxed daemon is killed (SIGSYS) or refused (errno).  It is
 * compiled into every daemon but reachable only through the hidden
 * --test-syscall flag, and it runs after the sandbox is on, so it can do
 * nothing the sandbox does not allow anyway.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/sandbox.h"

/* IP_VS_BASE_CTL + 8: the legacy IPVS flush socket option. */
#define IPVS_SO_SET_FLUSH	(64 + 1024 + 64 + 8)

static int
probe_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * A sort as large as the planner's: glibc's qsort() asks for the size of
 * physical memory (sysinfo) before sorting more than 1 KiB.
 */
static long
probe_qsort(void)
{
	static int v[4096];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		v[i] = (int)((i * 2654435761u) % 4096u);
	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), probe_cmp);
	for (i = 1; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i - 1] > v[i])
			return -1;
	return 0;
}

static long
probe_call(const char *name)
{
	static char *const argv[] = { (char *)"true", NULL };
	static char *const envp[] = { NULL };
	struct ifreq ifr;
	void *p;
	long rv;
	int fd;

	if (strcmp(name, "getpid") == 0)
		return syscall(SYS_getpid) > 0 ? 0 : -1;
	if (strcmp(name, "qsort_large") == 0)
		return probe_qsort();
	if (strcmp(name, "execve") == 0)
		return execve("/bin/true", argv, envp);
	if (strcmp(name, "execveat") == 0)
		return syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp,
		    0);
	if (strcmp(name, "openat") == 0)
		return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	if (strcmp(name, "openat_write") == 0)
		return syscall(SYS_openat, AT_FDCWD, "/tmp/kipvs-probe",
		    O_WRONLY | O_CREAT, 0600);
	if (strcmp(name, "open_by_handle_at") == 0)
		return syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
	if (strcmp(name, "socket_inet_stream") == 0)
		return syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (strcmp(name, "socket_inet_dgram") == 0)
		return syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	if (strcmp(name, "socket_inet_raw") == 0)
		return syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (strcmp(name, "socket_packet") == 0)
		return syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
	if (strcmp(name, "socket_unix") == 0)
		return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	if (strcmp(name, "socket_netlink_route") == 0)
		return syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (strcmp(name, "socket_netlink_audit") == 0)
		return syscall(SYS_socket, AF_NETLINK, SOCK_RAW,
		    NETLINK_AUDIT);
	if (strcmp(name, "socketpair") == 0) {
		int sv[2];

		return syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
	}
	if (strcmp(name, "ptrace") == 0)
		return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
	if (strcmp(name, "process_vm_readv") == 0)
		return syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL,
		    0, 0);
	if (strcmp(name, "init_module") == 0)
		return syscall(SYS_init_module, NULL, 0, "");
	if (strcmp(name, "finit_module") == 0)
		return syscall(SYS_finit_module, -1, "", 0);
	if (strcmp(name, "delete_module") == 0)
		return syscall(SYS_delete_module, "ip_vs", 0);
	if (strcmp(name, "bpf") == 0)
		return syscall(SYS_bpf, 0, NULL, 0);
	if (strcmp(name, "mount") == 0)
		return syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL);
	if (strcmp(name, "unshare") == 0)
		return syscall(SYS_unshare, CLONE_NEWNS);
	if (strcmp(name, "setns") == 0)
		return syscall(SYS_setns, -1, 0);
	if (strcmp(name, "setuid0") == 0)
		return syscall(SYS_setuid, 0);
	if (strcmp(name, "setgid0") == 0)
		return syscall(SYS_setgid, 0);
	if (strcmp(name, "capset") == 0)
		return syscall(SYS_capset, NULL, NULL);
	if (strcmp(name, "kexec_load") == 0)
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (strcmp(name, "keyctl") == 0)
		return syscall(SYS_keyctl, 0, 0, 0, 0, 0);
	if (strcmp(name, "perf_event_open") == 0)
		return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	if (strcmp(name, "userfaultfd") == 0)
		return syscall(SYS_userfaultfd, 0);
	if (strcmp(name, "io_uring_setup") == 0)
		return syscall(SYS_io_uring_setup, 1, NULL);
	if (strcmp(name, "memfd_create") == 0)
		return syscall(SYS_memfd_create, "x", 0);
	if (strcmp(name, "mmap_exec") == 0) {
		p = (void *)syscall(SYS_mmap, NULL, 4096,
		    PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? -1 : 0;
	}
	if (strcmp(name, "mprotect_exec") == 0) {
		p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
		if (p == MAP_FAILED)
			return -1;
		return syscall(SYS_mprotect, p, 4096, PROT_READ | PROT_EXEC);
	}
	if (strcmp(name, "fork") == 0) {
		rv = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		if (rv == 0)
			_exit(0);
		return rv;
	}
	if (strcmp(name, "clone3") == 0)
		return syscall(SYS_clone3, NULL, 0);
	if (strcmp(name, "ioctl_tty") == 0) {
		struct termios t;

		return syscall(SYS_ioctl, 0, TCGETS, &t);
	}
	if (strcmp(name, "ioctl_siocgifindex") == 0) {
		memset(&ifr, 0, sizeof(ifr));
		strncpy(ifr.ifr_name, "kipvs-none0", sizeof(ifr.ifr_name) - 1);
		return syscall(SYS_ioctl, 0, SIOCGIFINDEX, &ifr);
	}
	if (strcmp(name, "ipvs_sockopt") == 0) {
		fd = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
		if (fd == -1)
			return -1;
		return syscall(SYS_setsockopt, fd, IPPROTO_IP,
		    IPVS_SO_SET_FLUSH, NULL, 0);
	}
	errno = EINVAL;
	return -2;
}

int
sandbox_probe(const char *name)
{
	long rv;

	errno = 0;
	rv = probe_call(name);
	if (rv == -2 && errno == EINVAL)
		return -1;
	if (rv == -1)
		return errno != 0 ? errno : 255;
	return 0;
}
