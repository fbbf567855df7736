/* ztime.c — see ztime.h.  Calendar arithmetic after H. Hinnant's
 * days_from_civil / civil_from_days, so no gmtime or timegm is needed. */
#include "ztime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef ZOND_TEST_HOOKS
#include <stdatomic.h>

/* The test hook's offset in microseconds, read once (a bad value is 0:
 * tests set it, users never see this build).  Threads that race here
 * all store the same value. */
static int64_t
test_offset_us(void)
{
	static _Atomic int64_t off_a;
	static atomic_int done;
	const char *v;
	char *end;
	long long s;
	int64_t off = 0;

	if (atomic_load(&done))
		return atomic_load(&off_a);
	if ((v = getenv("ZOND_TEST_CLOCK_OFFSET")) != NULL && *v != '\0') {
		s = strtoll(v, &end, 10);
		if (*end == '\0' && s > -100LL * 365 * 86400 &&
		    s < 100LL * 365 * 86400)
			off = (int64_t)s * 1000000;
	}
	atomic_store(&off_a, off);
	atomic_store(&done, 1);
	return off;
}
#endif

int64_t
ztime_now_us(void)
{
	struct timespec ts;
	int64_t us;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#ifdef ZOND_TEST_HOOKS
	us += test_offset_us();
#endif
	return us;
}

int64_t
ztime_boot_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
ztime_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

char *
ztime_fmt_iso(int64_t us, char *buf, size_t len, int frac)
{
	int64_t secs, days, y;
	int64_t sub;
	unsigned mo, d, sod;

	secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
	sub = us - secs * 1000000;
	days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	sod = (unsigned)(secs - days * 86400);
	civil_from_days(days, &y, &mo, &d);
	if (frac == 3)
		snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02u.%03lldZ",
		    (long long)y, mo, d, sod / 3600, sod / 60 % 60, sod % 60,
		    (long long)(sub / 1000));
	else if (frac == 6)
		snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02u.%06lldZ",
		    (long long)y, mo, d, sod / 3600, sod / 60 % 60, sod % 60,
		    (long long)sub);
	else
		snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02uZ",
		    (long long)y, mo, d, sod / 3600, sod / 60 % 60, sod % 60);
	return buf;
}

/* Read exactly n digits at *p into *out; advance *p. */
static int
digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

zerr_t
ztime_parse_iso(const char *s, int64_t *us, zdiag_t *dg)
{
	const char *p = s;
	unsigned y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t sub = 0;
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31};

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				goto bad;
			if (*p == '.') {
				int64_t scale = 100000;
				p++;
				if (!isdigit((unsigned char)*p))
					goto bad;
				while (isdigit((unsigned char)*p)) {
					sub += (*p - '0') * scale;
					scale /= 10;
					p++;
				}
			}
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (strncmp(p, "+00:00", 6) == 0)
		p += 6;
	if (*p != '\0')
		goto bad;
	/* no leap seconds: Unix time has none, and :60 would alias :00 of
	 * the next minute */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))) || h > 23 || mi > 59 || sec > 59)
		return zdiag_set(dg, ZE_RANGE,
		    "time '%s' is not a valid UTC date and time", s);
	*us = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec) * 1000000 + sub;
	return ZE_OK;
bad:
	return zdiag_set(dg, ZE_PARSE,
	    "time '%s' is not ISO 8601 UTC (e.g. 2026-01-31T12:00:00Z)", s);
}
