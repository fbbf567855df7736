/* err.c — error names and diagnostics. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[ZE__COUNT] = {
	[ZE_OK] = "success",
	[ZE_NOMEM] = "out of memory",
	[ZE_IO] = "input/output error",
	[ZE_PARSE] = "parse error",
	[ZE_RANGE] = "value out of range",
	[ZE_PERM] = "unsafe permissions",
	[ZE_TOOBIG] = "too big",
	[ZE_TRUNC] = "truncated input",
	[ZE_VERSION] = "unsupported version",
	[ZE_CRYPTO] = "cryptographic failure",
	[ZE_BADSIG] = "bad signature",
	[ZE_NOTFOUND] = "not found",
	[ZE_EXISTS] = "already exists",
	[ZE_NOTIMPL] = "not implemented yet",
	[ZE_INVAL] = "invalid argument",
	[ZE_TIMEOUT] = "timed out",
	[ZE_STORAGE] = "storage failure",
	[ZE_FULL] = "storage full",
};

const char *
zerr_str(zerr_t e)
{
	if ((unsigned)e >= ZE__COUNT || names[e] == NULL)
		return "unknown error";
	return names[e];
}

zerr_t
zdiag_set(zdiag_t *d, zerr_t code, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return code;
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
	return code;
}

void
zdiag_prefix(zdiag_t *d, const char *fmt, ...)
{
	char old[sizeof(d->text)];
	va_list ap;
	int n;

	if (d == NULL)
		return;
	memcpy(old, d->text, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(d->text) - 2)
		return;
	d->text[n] = ':';
	d->text[n + 1] = ' ';
	memcpy(d->text + n + 2, old, sizeof(d->text) - (size_t)n - 2);
	d->text[sizeof(d->text) - 1] = '\0';
}
