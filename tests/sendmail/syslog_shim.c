/*
 * NAME
 *	syslog_shim 1
 * SUMMARY
 *	syslog(3) into a file, for a Sendmail run without syslogd
 * SYNOPSIS
 *	LD_PRELOAD=syslog_shim.so SYSLOG_SHIM_FILE=/path/sendmail.log sendmail ...
 * DESCRIPTION
 *	The test machine has no syslogd and no /dev/log, and Sendmail logs
 *	only through syslog(3). Preloaded, this library takes openlog(),
 *	syslog(), vsyslog() (and glibc's fortified __syslog_chk variants)
 *	and appends each message as one "ident[pid]: message" line to
 *	SYSLOG_SHIM_FILE.
 *
 *	The path is read once, when the library is loaded: Sendmail empties
 *	its environment and closes every descriptor above 2 at start, so the
 *	file is opened (O_APPEND) and closed again for every message, which
 *	also keeps the lines of its forked children whole.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

static char shim_path[4096];
static char shim_ident[64] = "syslog";

__attribute__((constructor)) static void shim_init(void)
{
	const char *path = getenv("SYSLOG_SHIM_FILE");

	if (path != NULL)
		snprintf(shim_path, sizeof shim_path, "%s", path);
}

void openlog(const char *ident, int option, int facility)
{
	(void)option;
	(void)facility;
	if (ident != NULL)
		snprintf(shim_ident, sizeof shim_ident, "%s", ident);
}

void closelog(void)
{
}

void vsyslog(int priority, const char *format, va_list ap)
{
	char line[8192];
	int n, m, fd;

	(void)priority;
	if (shim_path[0] == '\0')
		return;
	n = snprintf(line, sizeof line, "%s[%d]: ", shim_ident, (int)getpid());
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, format, ap);
	n = m < 0 ? n : n + m;
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	fd = open(shim_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	close(fd);
}

void syslog(int priority, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsyslog(priority, format, ap);
	va_end(ap);
}

void __syslog_chk(int priority, int flag, const char *format, ...);
void __vsyslog_chk(int priority, int flag, const char *format, va_list ap);

void __syslog_chk(int priority, int flag, const char *format, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, format);
	vsyslog(priority, format, ap);
	va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *format, va_list ap)
{
	(void)flag;
	vsyslog(priority, format, ap);
}
