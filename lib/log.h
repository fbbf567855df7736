/*
 * log.h — logging for the daemons and tools (after OpenBSD's log.c).
 *
 * One event per line on stderr: "TIME PROG[PID]: LEVEL: message".  Put
 * figures as key=value so lines can be grepped.  log_warn appends the text
 * of errno; log_warnx does not.  fatal/fatalx log and exit(1).  All calls
 * are thread-safe (one write per line).  Control bytes in a message
 * (newline, tab, escape, ...) are written as \xNN: text from a peer can
 * never start a line of its own.
 */
#ifndef ZOND_LOG_H
#define ZOND_LOG_H

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

void log_init(const char *progname, int level);
void log_setlevel(int level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
