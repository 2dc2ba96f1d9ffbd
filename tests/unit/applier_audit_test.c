/*
 * Unit tests for applierd/applier_audit: the JSON line format, string
 * escaping (quotes, control characters, invalid UTF-8), truncation, one
 * write(2) per record, and a batch's records gathered into writes of whole
 * lines (at most PIPE_BUF to anything but a regular file).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applierd/applier_audit.h"
#include "tests/tap.h"

static const char *
esc(const char *s)
{
	static char buf[256];

	audit_json_escape(buf, sizeof(buf), s);
	return buf;
}

/* Records gathered into ab (to fd), and what arrives. */
static void
gathered(void)
{
	struct audit_buf *ab = malloc(sizeof(*ab));
	struct audit_rec r = { 9, 0, "dest_add", "tcp 10.96.0.10:80 -> "
	    "10.128.0.1:8080", 0, NULL, NULL };
	char msg[2 * AUDIT_RECORD_MAX], line[AUDIT_RECORD_MAX], name[] =
	    "/tmp/kipvs-audit.XXXXXX";
	int sp[2], fd, whole = 1, lines = 0, msgs = 0, maxlen = 0, bad = 0;
	unsigned i;
	ssize_t n;
	FILE *f;

	/* A socket keeps write boundaries: one recv per write. */
	ok(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0, "socketpair");
	audit_buf_init(ab, sp[1]);
	ok(ab->limit == AUDIT_RECORD_MAX, "to a socket: PIPE_BUF per write");
	for (i = 1; i <= 200; i++) {
		r.seq = i;
		if (audit_buf_add(ab, &r) == -1)
			bad++;
	}
	ok(bad == 0 && audit_buf_flush(ab) == 0 && ab->len == 0,
	    "200 records gathered and written");
	close(sp[1]);
	while ((n = recv(sp[0], msg, sizeof(msg), 0)) > 0) {
		msgs++;
		if (n > maxlen)
			maxlen = (int)n;
		if (msg[n - 1] != '\n' || strncmp(msg, "{\"time\"", 7) != 0)
			whole = 0;
		for (i = 0; i < (unsigned)n; i++)
			lines += msg[i] == '\n';
	}
	close(sp[0]);
	ok(lines == 200 && whole, "every write holds whole records: %d "
	    "lines in %d writes", lines, msgs);
	ok(maxlen <= AUDIT_RECORD_MAX && msgs > 1 && msgs < 20,
	    "writes of at most %d bytes (largest %d), not one per record",
	    AUDIT_RECORD_MAX, maxlen);

	/* A regular file: larger writes, the same lines in order. */
	ok((fd = mkstemp(name)) >= 0, "a temporary file");
	unlink(name);
	audit_buf_init(ab, fd);
	ok(ab->limit == AUDIT_BUF_SIZE, "to a file: up to %d bytes per write",
	    AUDIT_BUF_SIZE);
	for (i = 1; i <= 2000; i++) {
		r.seq = i;
		(void)audit_buf_add(ab, &r);
	}
	ok(audit_buf_flush(ab) == 0, "2,000 records written");
	lseek(fd, 0, SEEK_SET);
	f = fdopen(fd, "r");
	lines = 0;
	bad = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char want[32];

		lines++;
		snprintf(want, sizeof(want), "\"seq\":%d,", lines);
		if (strstr(line, want) == NULL || line[strlen(line) - 1] != '\n')
			bad++;
	}
	ok(lines == 2000 && bad == 0, "the file holds the 2,000 lines in "
	    "order (%d read, %d wrong)", lines, bad);
	if (f != NULL)
		fclose(f);

	audit_buf_init(ab, -1);
	ok(audit_buf_add(ab, &r) == 0 && ab->len == 0 &&
	    audit_buf_flush(ab) == 0, "no audit log: records are dropped");
	audit_buf_init(ab, sp[1]);	/* closed above */
	(void)audit_buf_add(ab, &r);
	ok(audit_buf_flush(ab) == -1 && errno == EBADF,
	    "a write error is reported");
	free(ab);
}

int
main(void)
{
	struct timespec t = { 1795696200, 123456789 };	/* 2026-11-26 */
	struct audit_rec r = { 7, 3, "svc_add", "tcp 10.96.0.1:443", 0, NULL,
	    NULL };
	char buf[AUDIT_RECORD_MAX], big[3000], small[16];
	const char *pfx;
	int p[2];
	ssize_t n;
	size_t len;

	plan(33);

	len = audit_format(buf, sizeof(buf), &r, &t);
	is_str(buf, "{\"time\":\"2026-11-26T12:30:00.123456Z\","
	    "\"record\":\"result\",\"batch\":7,"
	    "\"seq\":3,\"op\":\"svc_add\",\"object\":\"tcp 10.96.0.1:443\","
	    "\"errno\":0,\"text\":\"ok\"}\n", "a success record");
	is(len, strlen(buf), "returned length is the line's");

	r.err = ESRCH;
	audit_format(buf, sizeof(buf), &r, &t);
	ok(strstr(buf, "\"errno\":3,\"text\":\"No such process\"}") != NULL,
	    "an error record carries errno and strerror by default");
	r.text = "dest for a missing service";
	audit_format(buf, sizeof(buf), &r, &t);
	ok(strstr(buf, "\"text\":\"dest for a missing service\"") != NULL,
	    "an explicit text wins");

	is_str(esc("a\"b\\c"), "a\\\"b\\\\c", "quote and backslash");
	is_str(esc("l1\nl2\r\t\b\f"), "l1\\nl2\\r\\t\\b\\f", "short escapes");
	is_str(esc("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f",
	    "other control characters as \\u00XX");
	is_str(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "valid UTF-8 passes through");
	is_str(esc("a\xff" "b\xc3"), "a\\ufffdb\\ufffd",
	    "invalid bytes and a cut sequence become U+FFFD");
	is_str(esc("\xc0\xaf"), "\\ufffd\\ufffd", "overlong encoding rejected");
	is_str(esc("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd",
	    "UTF-16 surrogate rejected");
	is_str(esc(NULL), "", "NULL is the empty string");

	/* 14 bytes + the 2-byte escape would leave no room for the NUL. */
	len = audit_json_escape(small, sizeof(small), "aaaaaaaaaaaaaa\"b");
	is_str(small, "aaaaaaaaaaaaaa", "truncation never splits an escape");
	is(len, 14, "... and reports what it wrote");

	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r.object = big;
	r.text = big;
	len = audit_format(buf, sizeof(buf), &r, &t);
	ok(len > 0 && len < AUDIT_RECORD_MAX && buf[len - 1] == '\n',
	    "over-long fields are cut to fit one record (%zu bytes)", len);
	ok(strstr(buf, "\",\"errno\":3,\"text\":\"\\\"") != NULL &&
	    strcmp(buf + len - 3, "\"}\n") == 0,
	    "the cut record is still well-formed");
	r.object = "tcp 10.96.0.1:443";
	r.text = NULL;
	r.op = NULL;
	audit_format(buf, sizeof(buf), &r, &t);
	ok(strstr(buf, "\"op\":\"\"") != NULL, "a NULL op prints as \"\"");
	r.record = "intent";
	audit_format(buf, sizeof(buf), &r, &t);
	pfx = "{\"time\":\"2026-11-26T12:30:00.123456Z\","
	    "\"record\":\"intent\",\"batch\":7,";
	ok(strncmp(buf, pfx, strlen(pfx)) == 0,
	    "the record kind follows the time");
	r.record = NULL;

	ok(pipe(p) == 0, "pipe");
	r.op = "dest_add";
	ok(audit_write(p[1], &r) == 0 && audit_write(p[1], &r) == 0,
	    "two records written");
	close(p[1]);
	n = read(p[0], big, sizeof(big) - 1);
	big[n > 0 ? n : 0] = '\0';
	ok(n > 0 && strchr(big, '\n') != NULL &&
	    strchr(strchr(big, '\n') + 1, '\n') != NULL &&
	    strchr(strchr(big, '\n') + 1, '\n')[1] == '\0',
	    "exactly two complete lines arrive");
	close(p[0]);
	ok(audit_write(-1, &r) < 0 && errno == EBADF,
	    "a bad descriptor is an error, not a crash");
	gathered();
	return done();
}
