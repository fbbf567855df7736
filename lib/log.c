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

/*
 * Copy the message m[0..n) into out (room bytes) with every control byte
 * (below 0x20, and 0x7f) written as \xNN, so that no text a peer sent can
 * end the line or forge another.  Returns the bytes written.
 */
static size_t
escape_controls(char *out, size_t room, const char *m, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)m[i];

		if (c >= 0x20 && c != 0x7f) {
			if (k + 1 > room)
				break;
			out[k++] = (char)c;
			continue;
		}
		if (k + 4 > room)
			break;
		out[k++] = '\\';
		out[k++] = 'x';
		out[k++] = hex[c >> 4];
		out[k++] = hex[c & 15];
	}
	return k;
}

static void
vlog(const char *lvl, int with_errno, int saved_errno, const char *fmt,
    va_list ap)
{
	char msg[2048], line[2048 + 128], ts[40];
	size_t n, m;
	int r;

	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	m = r < 0 ? 0 : (size_t)r;
	if (with_errno && m < sizeof(msg)) {
		r = snprintf(msg + m, sizeof(msg) - m, ": %s",
		    strerror(saved_errno));
		m += r < 0 ? 0 : (size_t)r;
	}
	if (m >= sizeof(msg))
		m = sizeof(msg) - 1;
	ztime_fmt_iso(ztime_now_us(), ts, sizeof(ts), 3);
	r = snprintf(line, sizeof(line), "%s %s[%d]: %s: ", ts, log_prog,
	    (int)getpid(), lvl);
	n = r < 0 ? 0 : (size_t)r;
	if (n > sizeof(line) - 1)
		n = sizeof(line) - 1;
	n += escape_controls(line + n, sizeof(line) - 1 - n, msg, m);
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
