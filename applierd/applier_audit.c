/*
 * applier_audit: one JSON line per operation, one write(2) per line.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "applierd/applier_audit.h"

/* Length of the UTF-8 sequence starting at s, or 0 if it is not valid. */
static size_t
utf8_seq_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values above U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

size_t
audit_json_escape(char *dst, size_t len, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	char tmp[8];
	const char *piece;
	size_t off = 0, plen, n;

	if (len == 0)
		return 0;
	while (s != NULL && *s != '\0') {
		n = 1;
		piece = tmp;
		switch (*s) {
		case '"':
			piece = "\\\"";
			break;
		case '\\':
			piece = "\\\\";
			break;
		case '\n':
			piece = "\\n";
			break;
		case '\r':
			piece = "\\r";
			break;
		case '\t':
			piece = "\\t";
			break;
		case '\b':
			piece = "\\b";
			break;
		case '\f':
			piece = "\\f";
			break;
		default:
			if (*s < 0x20 || *s == 0x7f)
				snprintf(tmp, sizeof(tmp), "\\u%04x", *s);
			else if (*s < 0x80) {
				tmp[0] = (char)*s;
				tmp[1] = '\0';
			} else if ((n = utf8_seq_len(s)) == 0) {
				/* Not UTF-8: one replacement per bad byte. */
				piece = "\\ufffd";
				n = 1;
			} else {
				memcpy(tmp, s, n);
				tmp[n] = '\0';
			}
			break;
		}
		plen = strlen(piece);
		if (off + plen >= len)
			break;
		memcpy(dst + off, piece, plen);
		off += plen;
		s += n;
	}
	dst[off] = '\0';
	return off;
}

size_t
audit_format(char *buf, size_t len, const struct audit_rec *rec,
    const struct timespec *now)
{
	char tbuf[96], kind[32], op[64], obj[1536], text[1024];
	const char *t;
	struct tm tm;
	int n;

	if (gmtime_r(&now->tv_sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(tbuf, sizeof(tbuf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now->tv_nsec / 1000);
	t = rec->text;
	if (t == NULL)
		t = rec->err == 0 ? "ok" : strerror(rec->err);
	audit_json_escape(op, sizeof(op), rec->op);
	audit_json_escape(obj, sizeof(obj), rec->object);
	audit_json_escape(text, sizeof(text), t);
	audit_json_escape(kind, sizeof(kind), rec->record != NULL ?
	    rec->record : "result");
	n = snprintf(buf, len, "{\"time\":\"%s\",\"record\":\"%s\","
	    "\"batch\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"op\":\"%s\","
	    "\"object\":\"%s\",\"errno\":%d,\"text\":\"%s\"}\n", tbuf,
	    kind, rec->batch, rec->seq, op, obj, rec->err, text);
	if (n < 0 || (size_t)n >= len)
		return 0;
	return (size_t)n;
}

int
audit_write(int fd, const struct audit_rec *rec)
{
	char buf[AUDIT_RECORD_MAX];
	struct timespec now;
	size_t len;
	ssize_t w;

	clock_gettime(CLOCK_REALTIME, &now);
	len = audit_format(buf, sizeof(buf), rec, &now);
	if (len == 0) {
		errno = EOVERFLOW;
		return -1;
	}
	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if ((size_t)w != len) {
		/* A second write would no longer be one record. */
		errno = EIO;
		return -1;
	}
	return 0;
}
