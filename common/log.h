/*
 * Logging for every kipvs process: one line per message on stderr (the
 * journal adds the time) or to syslog, prefixed with the process name and
 * the level.  log_warn and fatal append strerror(errno); log_warnx and
 * fatalx do not.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef KIPVS_LOG_H
#define KIPVS_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* name is borrowed for the life of the process (normally a literal). */
void	log_init(const char *name, enum log_level level, int use_syslog);
void	log_setlevel(enum log_level level);
enum log_level log_getlevel(void);
const char *log_procname(void);

void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Formats a message into a caller's error buffer (err may be NULL or
 * errlen 0: then nothing is written), for functions that report why they
 * failed to a caller who decides whether and how to log it.
 */
void	errfmt(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* KIPVS_LOG_H */
