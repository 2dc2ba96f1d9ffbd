/*
 * applier_audit: one JSON line per operation, written whole (one record
 * per write(2), or a batch's records gathered into few writes).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/stat.h>

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
		/* Printable ASCII other than the quote and backslash: as is. */
		if (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') {
			if (off + 1 >= len)
				break;
			dst[off++] = (char)*s++;
			continue;
		}
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

void
astr_init(struct audit_str *a, char *buf, size_t cap)
{
	a->p = buf;
	a->len = 0;
	a->cap = cap;
	a->full = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

static void
astr_n(struct audit_str *a, const char *s, size_t n)
{
	if (a->full || a->len + n >= a->cap) {
		a->full = 1;
		return;
	}
	memcpy(a->p + a->len, s, n);
	a->len += n;
	a->p[a->len] = '\0';
}

void
astr_s(struct audit_str *a, const char *s)
{
	astr_n(a, s, strlen(s));
}

void
astr_u(struct audit_str *a, unsigned long long v)
{
	char d[24];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	astr_n(a, d + i, sizeof(d) - i);
}

void
astr_ip4(struct audit_str *a, const uint8_t *b)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0)
			astr_n(a, ".", 1);
		astr_u(a, b[i]);
	}
}

/* s escaped, at most max bytes of escaped text (cut as the escaper cuts). */
static void
astr_json(struct audit_str *a, const char *s, size_t max)
{
	size_t room;

	if (a->full || a->len + 1 >= a->cap) {
		a->full = 1;
		return;
	}
	room = a->cap - a->len;
	if (room > max)
		room = max;
	a->len += audit_json_escape(a->p + a->len, room, s != NULL ? s : "");
}

/* "2026-11-26T12:30:00", formatted again only when the second changes. */
static const char *
audit_second(time_t sec)
{
	static char buf[80];
	static time_t last = -1;
	struct tm tm;

	if (sec != last) {
		if (gmtime_r(&sec, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		last = sec;
	}
	return buf;
}

size_t
audit_format(char *buf, size_t len, const struct audit_rec *rec,
    const struct timespec *now)
{
	struct audit_str a;
	char us[8];
	const char *t;
	long v;
	int i;

	t = rec->text;
	if (t == NULL)
		t = rec->err == 0 ? "ok" : strerror(rec->err);
	/* Microseconds, six digits with leading zeros. */
	for (i = 5, v = now->tv_nsec / 1000; i >= 0; i--, v /= 10)
		us[i] = (char)('0' + v % 10);
	us[6] = '\0';
	astr_init(&a, buf, len);
	astr_s(&a, "{\"time\":\"");
	astr_s(&a, audit_second(now->tv_sec));
	astr_s(&a, ".");
	astr_s(&a, us);
	astr_s(&a, "Z\",\"record\":\"");
	astr_json(&a, rec->record != NULL ? rec->record : "result", 32);
	astr_s(&a, "\",\"batch\":");
	astr_u(&a, rec->batch);
	astr_s(&a, ",\"seq\":");
	astr_u(&a, rec->seq);
	astr_s(&a, ",\"op\":\"");
	astr_json(&a, rec->op, 64);
	astr_s(&a, "\",\"object\":\"");
	astr_json(&a, rec->object, 1536);
	astr_s(&a, "\",\"errno\":");
	if (rec->err < 0) {
		astr_s(&a, "-");
		astr_u(&a, (unsigned long long)-(long long)rec->err);
	} else
		astr_u(&a, (unsigned long long)rec->err);
	astr_s(&a, ",\"text\":\"");
	astr_json(&a, t, 1024);
	astr_s(&a, "\"}\n");
	return a.full ? 0 : a.len;
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

void
audit_buf_init(struct audit_buf *ab, int fd)
{
	struct stat st;

	ab->fd = fd;
	ab->len = 0;
	ab->err = 0;
	ab->limit = AUDIT_RECORD_MAX;
	clock_gettime(CLOCK_REALTIME, &ab->now);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		ab->limit = AUDIT_BUF_SIZE;
}

/* The gathered records, in writes of at most ab->limit whole lines. */
int
audit_buf_flush(struct audit_buf *ab)
{
	size_t off = 0, n, cut;
	ssize_t w;

	while (off < ab->len) {
		n = ab->len - off;
		if (n > ab->limit) {
			/* Up to the last newline that fits. */
			for (cut = ab->limit; cut > 0 &&
			    ab->buf[off + cut - 1] != '\n'; cut--)
				;
			n = cut > 0 ? cut : ab->limit;
		}
		do
			w = write(ab->fd, ab->buf + off, n);
		while (w < 0 && errno == EINTR);
		if (w < 0 || (size_t)w != n) {
			if (ab->err == 0)
				ab->err = w < 0 ? errno : EIO;
			break;
		}
		off += n;
	}
	ab->len = 0;
	clock_gettime(CLOCK_REALTIME, &ab->now);
	if (ab->err != 0) {
		errno = ab->err;
		return -1;
	}
	return 0;
}

int
audit_buf_add(struct audit_buf *ab, const struct audit_rec *rec)
{
	size_t len;

	if (ab->fd < 0)
		return 0;
	if (sizeof(ab->buf) - ab->len < AUDIT_RECORD_MAX &&
	    audit_buf_flush(ab) == -1)
		return -1;
	len = audit_format(ab->buf + ab->len, AUDIT_RECORD_MAX, rec, &ab->now);
	if (len == 0) {
		errno = EOVERFLOW;
		return -1;
	}
	ab->len += len;
	return 0;
}
