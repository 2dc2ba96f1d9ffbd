/*
 * Unit tests for applierd/applier_audit: the JSON line format, string
 * escaping (quotes, control characters, invalid UTF-8), truncation, and one
 * write(2) per record.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
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

	plan(22);

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
	return done();
}
