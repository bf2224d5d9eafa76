/*
 * NAME
 *	notify_mail 3
 * SUMMARY
 *	one mail to the admin through the site's own sendmail(1)
 * SYNOPSIS
 *	#include "notify_mail.h"
 * DESCRIPTION
 *	See notify_mail.h. The message is built before fork() (no malloc
 *	in a child of a threaded program); the child forks sendmail with
 *	the pipe as its standard input, writes, closes and _exit()s, so
 *	sendmail's process is reparented to init and the caller waits
 *	only for the short-lived child. An address starting with '-' is
 *	refused (it would be read as an option); "--" ends sendmail's
 *	options anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notify_mail.h"

/* notify_mail_error - set a malloc'd message, return -1 */
static int notify_mail_error(char **error_r, const char *what)
{
	if (asprintf(error_r, "notification mail: %s%s%s", what, errno ? ": " : "",
		     errno ? strerror(errno) : "") < 0)
		*error_r = NULL;
	return -1;
}

/* notify_mail_clean - control characters but LF and TAB to spaces */
static void notify_mail_clean(char *text, int keep_lf)
{
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\t' && !(keep_lf && *p == '\n')) || *p == 0x7f)
			*p = ' ';
}

/* notify_mail_child - in the child: start sendmail, feed it, exit */
static void notify_mail_child(const char *sendmail, const char *address, const char *text,
			      size_t len)
{
	int fds[2];
	pid_t pid;
	size_t off = 0;

	if (pipe(fds) != 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid == 0) {
		/* The envelope sender is the daemon's account (run_user), as
		   for any local submission; "from" is the From: header. */
		char *const argv[] = {"sendmail", "-i", "--", (char *)address, NULL};

		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(sendmail, argv);
		_exit(127);
	}
	close(fds[0]);
	while (off < len) {
		ssize_t n = write(fds[1], text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fds[1]);
	_exit(off == len ? 0 : 1);
}

int notify_mail_send(const char *sendmail, const char *address, const char *from,
		     const char *subject, const char *body, char **error_r)
{
	char text[NOTIFY_MAIL_MAX], subj[256];
	int len;
	pid_t pid;

	*error_r = NULL;
	errno = 0;
	if (address == NULL || address[0] == '\0' || address[0] == '-' ||
	    strpbrk(address, " \t\r\n") != NULL)
		return notify_mail_error(error_r, "bad address");
	snprintf(subj, sizeof subj, "%s", subject);
	notify_mail_clean(subj, 0);
	len = snprintf(text, sizeof text,
		       "From: %s\nTo: %s\nSubject: %s\nAuto-Submitted: auto-generated\n"
		       "Content-Type: text/plain; charset=us-ascii\n\n%s\n",
		       from, address, subj, body);
	if (len < 0)
		return notify_mail_error(error_r, "cannot format");
	if ((size_t)len >= sizeof text)
		len = (int)sizeof text - 1;
	notify_mail_clean(text, 1);
	pid = fork();
	if (pid < 0)
		return notify_mail_error(error_r, "fork");
	if (pid == 0)
		notify_mail_child(sendmail, address, text, (size_t)len);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}
