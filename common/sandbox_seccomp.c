/*
 * The seccomp allow-lists of the three daemons (libseccomp).  Default
 * action SCMP_ACT_KILL_PROCESS; the native architecture only (libseccomp
 * kills on any other with SCMP_FLTATR_ACT_BADARCH); socket() arguments
 * pinned to what each process needs; clone3 fails with ENOSYS so libc
 * falls back to clone; benign probes (ioctl on a tty) fail with an errno.
 * docs/sandbox.md lists the calls and why each is there.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sandbox.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK	12
#endif
/* x_tables socket options (linux/netfilter_ipv4/ip_tables.h). */
#define XT_SO_SET_REPLACE	64
#define XT_SO_SET_ADD_COUNTERS	65
#define XT_SO_GET_INFO		64
#define XT_SO_GET_ENTRIES	65
#define XT_SO_GET_REVISION_MATCH 66
#define XT_SO_GET_REVISION_TARGET 67
#define IPSET_SO_IP_SET		83

/* The type argument of socket() without the creation flags. */
#define SOCK_TYPE_MASK		(0xffffffffULL & \
				 ~(unsigned long long)(SOCK_CLOEXEC | \
				     SOCK_NONBLOCK))

#define RULE(ctx, act, name, ...) \
	rule_add((ctx), (act), SCMP_SYS(name), #name, __VA_ARGS__)

/*
 * Adds one rule; a syscall this architecture does not have (negative
 * pseudo number) is skipped.
 */
static int
rule_add(scmp_filter_ctx ctx, uint32_t act, int nr, const char *name,
    unsigned n, ...)
{
	struct scmp_arg_cmp cmp[6];
	va_list ap;
	unsigned i;
	int rv;

	if (nr < 0)
		return 0;
	va_start(ap, n);
	for (i = 0; i < n && i < 6; i++)
		cmp[i] = va_arg(ap, struct scmp_arg_cmp);
	va_end(ap);
	rv = seccomp_rule_add_array(ctx, act, nr, n, cmp);
	if (rv < 0) {
		errno = -rv;
		log_warn("seccomp rule for %s", name);
		return -1;
	}
	return 0;
}

static const char *const base_allow[] = {
	"read", "write", "readv", "writev", "close", "dup3",
	"recvmsg", "sendmsg", "recvfrom", "sendto", "shutdown",
	"poll", "ppoll",
	"brk", "munmap", "mremap", "madvise",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"getrandom", "getpid", "gettid", "getppid",
	"getuid", "geteuid", "getgid", "getegid",
	"exit", "exit_group", "rt_sigreturn", "rt_sigprocmask",
	"rt_sigaction", "restart_syscall", "futex", "sched_yield",
	"fstat",
	/* glibc's dprintf() asks for the offset of the log descriptor. */
	"lseek",
	/*
	 * glibc's qsort() of more than 1 KiB asks sysconf(_SC_PHYS_PAGES),
	 * i.e. sysinfo(), once: the planner sorts ten thousand Services.
	 */
	"sysinfo",
	NULL
};

static const char *const watcher_allow[] = {
	"connect", "bind", "listen", "accept4", "getsockname",
	"getpeername", "getsockopt",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
	"pipe2", "set_robust_list", "rseq", "sched_getaffinity",
	"uname", "statx", "access", "faccessat", "readlink",
	NULL
};

static int
add_names(scmp_filter_ctx ctx, const char *const *names)
{
	int nr, rv;

	for (; *names != NULL; names++) {
		if ((nr = seccomp_syscall_resolve_name(*names)) ==
		    __NR_SCMP_ERROR)
			continue;
		if (nr < 0)
			continue;
		if ((rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			errno = -rv;
			log_warn("seccomp rule for %s", *names);
			return -1;
		}
	}
	return 0;
}

static int
add_base(scmp_filter_ctx ctx)
{
	static const int fcntl_ok[] = {
		F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC,
	};
	size_t i;
	int rv = 0;

	if (add_names(ctx, base_allow) == -1)
		return -1;
	/* W^X: no executable mappings. */
	rv |= RULE(ctx, SCMP_ACT_ALLOW, mmap, 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rv |= RULE(ctx, SCMP_ACT_ALLOW, mprotect, 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	for (i = 0; i < sizeof(fcntl_ok) / sizeof(fcntl_ok[0]); i++)
		rv |= RULE(ctx, SCMP_ACT_ALLOW, fcntl, 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_ok[i]));
	/* glibc's fstat() is fstatat(fd, "", buf, AT_EMPTY_PATH). */
	rv |= RULE(ctx, SCMP_ACT_ALLOW, newfstatat, 1,
	    SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
	/* Reading limits is harmless; setting them is not allowed. */
	rv |= RULE(ctx, SCMP_ACT_ALLOW, prlimit64, 1,
	    SCMP_A2(SCMP_CMP_EQ, 0));
	/* Probes that must fail, not kill. */
	rv |= RULE(ctx, SCMP_ACT_ERRNO(ENOTTY), ioctl, 0);
	rv |= RULE(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3, 0);
	return rv ? -1 : 0;
}

static int
add_watcher(scmp_filter_ctx ctx)
{
	static const int inet[] = { AF_INET, AF_INET6 };
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	size_t i, j;
	int rv = 0;

	if (add_names(ctx, watcher_allow) == -1)
		return -1;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			rv |= RULE(ctx, SCMP_ACT_ALLOW, socket, 2,
			    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)inet[i]),
			    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK,
			    (scmp_datum_t)types[j]));
	/* getaddrinfo(AI_ADDRCONFIG) asks rtnetlink for addresses. */
	rv |= RULE(ctx, SCMP_ACT_ALLOW, socket, 3,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_RAW),
	    SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
	/* glibc tries nscd over AF_UNIX: refuse quietly. */
	rv |= RULE(ctx, SCMP_ACT_ERRNO(EACCES), socket, 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/*
	 * Socket options of TCP clients and listeners only: no IPPROTO_IP
	 * level, where the legacy IPVS and x_tables options live.
	 */
	rv |= RULE(ctx, SCMP_ACT_ALLOW, setsockopt, 1,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET));
	rv |= RULE(ctx, SCMP_ACT_ALLOW, setsockopt, 1,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP));
	rv |= RULE(ctx, SCMP_ACT_ALLOW, setsockopt, 1,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_IPV6));
	/* Read-only opens (resolv.conf, hosts, CA bundle). */
	rv |= RULE(ctx, SCMP_ACT_ALLOW, openat, 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ,
	    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY));
	/* Threads only (curl's resolver), never new processes. */
	rv |= RULE(ctx, SCMP_ACT_ALLOW, clone, 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	return rv ? -1 : 0;
}

static int
add_applier(scmp_filter_ctx ctx)
{
	static const int nl_protos[] = {
		NETLINK_ROUTE, NETLINK_GENERIC, NETLINK_NETFILTER,
	};
	static const int set_sol_netlink[] = {
		NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_EXT_ACK,
		NETLINK_GET_STRICT_CHK,
	};
	static const int sol_socket[] = {
		SO_RCVBUF, SO_SNDBUF, SO_RCVBUFFORCE, SO_SNDBUFFORCE,
	};
	static const int ip_levels[] = { IPPROTO_IP, IPPROTO_IPV6 };
	static const int get_ip[] = {
		XT_SO_GET_INFO, XT_SO_GET_ENTRIES, XT_SO_GET_REVISION_MATCH,
		XT_SO_GET_REVISION_TARGET,
	};
	size_t i, j;
	int rv = 0;

	for (i = 0; i < 3; i++)
		rv |= RULE(ctx, SCMP_ACT_ALLOW, socket, 3,
		    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_RAW),
		    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)nl_protos[i]));
	/*
	 * libiptc is given an AF_INET/AF_INET6 datagram socket: the x_tables
	 * socket options need only CAP_NET_ADMIN there, so no raw socket.
	 */
	for (i = 0; i < 2; i++)
		rv |= RULE(ctx, SCMP_ACT_ALLOW, socket, 3,
		    SCMP_A0(SCMP_CMP_EQ, i == 0 ? AF_INET : AF_INET6),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM),
		    SCMP_A2(SCMP_CMP_EQ, 0));
	rv |= RULE(ctx, SCMP_ACT_ALLOW, bind, 0);
	rv |= RULE(ctx, SCMP_ACT_ALLOW, getsockname, 0);
	rv |= RULE(ctx, SCMP_ACT_ALLOW, flock, 0);
	rv |= RULE(ctx, SCMP_ACT_ALLOW, fdatasync, 0);
	for (i = 0; i < sizeof(set_sol_netlink) / sizeof(int); i++)
		rv |= RULE(ctx, SCMP_ACT_ALLOW, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_NETLINK),
		    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)set_sol_netlink[i]));
	for (i = 0; i < sizeof(sol_socket) / sizeof(int); i++) {
		rv |= RULE(ctx, SCMP_ACT_ALLOW, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
		    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)sol_socket[i]));
		rv |= RULE(ctx, SCMP_ACT_ALLOW, getsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
		    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)sol_socket[i]));
	}
	rv |= RULE(ctx, SCMP_ACT_ALLOW, getsockopt, 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET), SCMP_A2(SCMP_CMP_EQ, SO_ERROR));
	for (i = 0; i < 2; i++) {
		rv |= RULE(ctx, SCMP_ACT_ALLOW, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)ip_levels[i]),
		    SCMP_A2(SCMP_CMP_EQ, XT_SO_SET_REPLACE));
		rv |= RULE(ctx, SCMP_ACT_ALLOW, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)ip_levels[i]),
		    SCMP_A2(SCMP_CMP_EQ, XT_SO_SET_ADD_COUNTERS));
		for (j = 0; j < sizeof(get_ip) / sizeof(int); j++)
			rv |= RULE(ctx, SCMP_ACT_ALLOW, getsockopt, 2,
			    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)ip_levels[i]),
			    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)get_ip[j]));
	}
	rv |= RULE(ctx, SCMP_ACT_ALLOW, getsockopt, 2,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_IP),
	    SCMP_A2(SCMP_CMP_EQ, IPSET_SO_IP_SET));
	return rv ? -1 : 0;
}

/*
 * Debug mode: report the blocked call on stderr and let it fail with
 * ENOSYS.  Only async-signal-safe calls in here.
 */
static void
sigsys_trap(int sig, siginfo_t *si, void *ctx)
{
	char buf[96];
	int n;

	(void)sig;
	n = snprintf(buf, sizeof(buf), "seccomp: blocked syscall %d "
	    "(arch %#x); failing it with ENOSYS\n", si->si_syscall,
	    si->si_arch);
	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n);
#if defined(__x86_64__)
	((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	((ucontext_t *)ctx)->uc_mcontext.regs[0] = (unsigned long)-ENOSYS;
#else
	(void)ctx;
	_exit(128 + SIGSYS);
#endif
}

int
sandbox_seccomp_enforcing(void)
{
#ifdef KIPVS_SANITIZER
	return 0;
#else
	return 1;
#endif
}

static scmp_filter_ctx
filter_build(enum sandbox_proc proc, unsigned flags)
{
	scmp_filter_ctx ctx;
	uint32_t def = SCMP_ACT_KILL_PROCESS;

	if (flags & SANDBOX_F_SECCOMP_TRAP)
		def = SCMP_ACT_TRAP;
	if (!sandbox_seccomp_enforcing())
		def = SCMP_ACT_LOG;
	if ((ctx = seccomp_init(def)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0)
		goto fail;
	if (add_base(ctx) == -1)
		goto fail;
	if (proc == SANDBOX_WATCHER && add_watcher(ctx) == -1)
		goto fail;
	if (proc == SANDBOX_APPLIER && add_applier(ctx) == -1)
		goto fail;
	return ctx;
 fail:
	seccomp_release(ctx);
	errno = EINVAL;
	return NULL;
}

#ifdef KIPVS_MEMCHECK
/*
 * valgrind (make memcheck) has no seccomp(2), so libseccomp can neither
 * probe for SCMP_ACT_LOG nor load: the same filter, logging only, is
 * exported as BPF and loaded with prctl(PR_SET_SECCOMP).
 */
static int
memcheck_load(scmp_filter_ctx ctx)
{
	struct sock_fprog prog;
	void *buf = NULL;
	off_t len;
	int fd, rv = -1;

	if ((fd = memfd_create("kipvs-bpf", MFD_CLOEXEC)) == -1)
		return -1;
	if (seccomp_export_bpf(ctx, fd) < 0 ||
	    (len = lseek(fd, 0, SEEK_END)) <= 0 ||
	    len % sizeof(struct sock_filter) != 0 ||
	    (buf = malloc((size_t)len)) == NULL ||
	    pread(fd, buf, (size_t)len, 0) != len)
		goto out;
	prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	prog.filter = buf;
	rv = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
out:
	if (rv == -1 && errno == 0)
		errno = EINVAL;
	free(buf);
	close(fd);
	return rv;
}
#endif

int
sandbox_seccomp(enum sandbox_proc proc, unsigned flags)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int rv;

	if (flags & SANDBOX_F_SECCOMP_TRAP) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sigsys_trap;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) == -1)
			return -1;
		log_warnx("seccomp debug mode: forbidden syscalls are logged "
		    "and fail with ENOSYS instead of killing");
	}
	if (!sandbox_seccomp_enforcing())
		log_warnx("sanitizer build: the syscall filter logs instead "
		    "of killing");
#ifdef KIPVS_MEMCHECK
	if (seccomp_api_set(3) < 0)
		return -1;
#endif
	if ((ctx = filter_build(proc, flags)) == NULL)
		return -1;
#ifdef KIPVS_MEMCHECK
	rv = memcheck_load(ctx) == -1 ? -errno : 0;
#else
	rv = seccomp_load(ctx);
#endif
	seccomp_release(ctx);
	if (rv < 0) {
		errno = -rv;
		return -1;
	}
	return 0;
}

int
sandbox_seccomp_export(enum sandbox_proc proc, int fd)
{
	scmp_filter_ctx ctx;
	int rv;

	if ((ctx = filter_build(proc, 0)) == NULL)
		return -1;
	rv = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	if (rv < 0) {
		errno = -rv;
		return -1;
	}
	return 0;
}
