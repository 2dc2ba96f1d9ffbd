/*
 * applier_audit: the applier's audit trail.  One JSON object per line,
 * written to a descriptor the parent opened (an O_APPEND file or stderr)
 * by write(2)s that each hold whole lines only (one record, or a batch's
 * records gathered: struct audit_buf), so records never interleave and a
 * crash leaves whole lines only.  "record" says which
 * kind: "intent" before a batch runs, then one "result" per operation
 * (executed or rejected), "channel" when the planner's channel closes.
 *
 *	{"time":"2026-11-26T12:30:00.123456Z","record":"result","batch":7,
 *	 "seq":3,"op":"svc_add","object":"tcp 10.96.0.1:443","errno":0,
 *	 "text":"ok"}
 *
 * The JSON is written by hand (the applier links no JSON library); every
 * string is escaped and invalid UTF-8 is replaced by U+FFFD.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_APPLIER_AUDIT_H
#define KIPVS_APPLIER_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A record never exceeds this (PIPE_BUF: atomic on pipes and the journal). */
#define AUDIT_RECORD_MAX	4096

struct audit_rec {
	uint64_t	 batch;
	uint64_t	 seq;
	const char	*op;		/* e.g. "svc_add"; NULL prints "" */
	const char	*object;	/* e.g. "tcp 10.96.0.1:443" */
	int		 err;		/* 0 or a positive errno */
	const char	*text;		/* NULL: "ok" or strerror(err) */
	const char	*record;	/* NULL: "result"; "intent", ... */
};

/*
 * Formats one record (with its trailing newline) into buf for the given
 * wall-clock time.  Over-long strings are cut (never inside an escape or a
 * UTF-8 sequence) so the line fits.  Returns the length, or 0 if len is
 * too small for even an empty record.
 */
size_t	audit_format(char *buf, size_t len, const struct audit_rec *rec,
	    const struct timespec *now);

/*
 * Escapes src as the inside of a JSON string into dst (NUL-terminated),
 * writing at most len - 1 bytes.  Returns the bytes written.
 */
size_t	audit_json_escape(char *dst, size_t len, const char *src);

/*
 * A string built by appending, without printf (the audit trail formats a
 * record per op: 97,000 for a cold start of 10,000 Services).  Appends
 * that do not fit set full and are dropped; p stays NUL-terminated.
 */
struct audit_str {
	char	*p;
	size_t	 len, cap;
	int	 full;
};

void	astr_init(struct audit_str *, char *buf, size_t cap);
void	astr_s(struct audit_str *, const char *);
void	astr_u(struct audit_str *, unsigned long long);
/* An IPv4 address (4 bytes) in dotted quad. */
void	astr_ip4(struct audit_str *, const uint8_t *);

/* Formats rec with the current time and writes it with one write(2).
 * Returns 0, or -1 with errno set (a short write is EIO). */
int	audit_write(int fd, const struct audit_rec *rec);

/*
 * A batch's records gathered into few writes.  Every write holds whole
 * records only; to a regular file up to AUDIT_BUF_SIZE bytes, to anything
 * else (a pipe to the journal, a tty) at most AUDIT_RECORD_MAX, which is
 * PIPE_BUF and so stays atomic beside other writers.
 */
#define AUDIT_BUF_SIZE		65536

struct audit_buf {
	int	 fd;
	size_t	 limit;			/* bytes per write */
	size_t	 len;
	int	 err;			/* first write error, 0: none */
	struct timespec now;		/* the records' time: read at the
					   start and at every write, not per
					   record (a clock read costs) */
	char	 buf[AUDIT_BUF_SIZE];
};

/* fd < 0: every record is dropped (no audit log). */
void	audit_buf_init(struct audit_buf *, int fd);
/* Formats rec with the time of the last write (or init); writes out
 * first if it is full. */
int	audit_buf_add(struct audit_buf *, const struct audit_rec *rec);
/* Writes out what is gathered.  0, or -1 with errno (of the first error). */
int	audit_buf_flush(struct audit_buf *);

#endif /* KIPVS_APPLIER_AUDIT_H */
