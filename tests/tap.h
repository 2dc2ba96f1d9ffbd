/*
 * tap.h: a tiny Test Anything Protocol producer for kipvs's C unit tests.
 *
 * Header-only on purpose: every test is one C file that includes this and
 * links against the component libraries.  The output is read by prove(1),
 * which `make check` runs over every test.
 *
 *	plan(n);			1..n (or done_testing() with no plan)
 *	ok(cond, "fmt", ...);		ok N - description
 *	is(got, want, "fmt", ...);	integers, with both values on failure
 *	is_str(got, want, "fmt", ...);	strings (NULL-safe)
 *	skip(n, "reason", ...);		n skipped tests with the stated reason
 *	diag("fmt", ...);		a "# " comment line on stdout
 *	return done();			exit status: 0 only if all ran and passed
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_TAP_H
#define KIPVS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

static inline void tap_vline(int pass, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static inline void tap_diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline int tap_ok(int pass, const char *file, int line,
    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int tap_is(long long got, long long want, const char *file,
    int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline int tap_is_str(const char *got, const char *want,
    const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline void tap_skip(int n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void
tap_vline(int pass, const char *fmt, va_list ap)
{
	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

static inline void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		tap_diag("  failed at %s:%d", file, line);
	return pass;
}

static inline int
tap_is(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		tap_diag("  failed at %s:%d: got %lld, want %lld", file, line,
		    got, want);
	return pass;
}

static inline int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_vline(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		tap_diag("  failed at %s:%d:\n#   got:  '%s'\n#   want: '%s'",
		    file, line, got ? got : "(null)", want ? want : "(null)");
	return pass;
}

static inline void
tap_skip(int n, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	for (i = 0; i < n; i++) {
		tap_run++;
		printf("ok %d # skip %s\n", tap_run, reason);
	}
	fflush(stdout);
}

/* Returns the process exit status: non-zero on any failure or plan mismatch. */
static inline int
done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_run != tap_planned) {
		tap_diag("planned %d tests but ran %d", tap_planned, tap_run);
		return 255;
	}
	fflush(stdout);
	return tap_failed ? (tap_failed > 254 ? 254 : tap_failed) : 0;
}

#define ok(cond, ...)	tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(got, want, ...) \
	tap_is((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define skip(n, ...)	tap_skip((n), __VA_ARGS__)
#define diag(...)	tap_diag(__VA_ARGS__)

#endif /* KIPVS_TAP_H */
