/* log.c — see log.h.  Each line is built in a local buffer and written with
 * one write(2), so lines from several threads never interleave. */
#include "log.h"
#include "ztime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_prog = "zond";
static int log_level = LOG_LVL_INFO;

void
log_init(const char *progname, int level)
{
	log_prog = progname;
	log_level = level;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

static void
vlog(const char *lvl, int with_errno, int saved_errno, const char *fmt,
    va_list ap)
{
	char line[2048], ts[40];
	size_t n;
	int r;

	ztime_fmt_iso(ztime_now_us(), ts, sizeof(ts), 3);
	r = snprintf(line, sizeof(line), "%s %s[%d]: %s: ", ts, log_prog,
	    (int)getpid(), lvl);
	n = r < 0 ? 0 : (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (with_errno && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(saved_errno));
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", 1, e, fmt, ap);
	va_end(ap);
	errno = e;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", 0, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	vlog("info", 0, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog("debug", 0, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", 1, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", 0, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
