/*
 * NAME
 *	notify_mail 3h
 * SUMMARY
 *	one mail to the admin through the site's own sendmail(1)
 * DESCRIPTION
 *	notify_mail_send() hands a short text message to sendmail(1)
 *	(limit_notify_sendmail: /usr/sbin/sendmail), so it travels the
 *	site's own Postfix: its
 *	queue, its aliases, its relay. It never waits for the mail system:
 *	a child forks the sendmail process, writes the message into its
 *	standard input and exits at once; the caller only reaps that
 *	child, so a reply on the mail path is not held up by a slow
 *	postdrop. Safe in threaded programs (the children only write and
 *	exec).
 */
#ifndef AUTHRELAY_NOTIFY_MAIL_H
#define AUTHRELAY_NOTIFY_MAIL_H

#define NOTIFY_MAIL_MAX 4096	/* bytes of headers and body */

/* Sends one message to address through the program sendmail
   ("sendmail -i -- address"; the envelope sender is the calling
   account), From: from (a program's name: Postfix qualifies it), with
   subject and body
   (plain text; CR and other control characters but LF and TAB become
   spaces). Returns 0 when the message was handed to sendmail's child,
   or -1 with *error_r (malloc'd) when it could not be (fork, pipe, a
   bad address). Whether sendmail then accepted it is in the mail log. */
int notify_mail_send(const char *sendmail, const char *address, const char *from,
		     const char *subject, const char *body, char **error_r);

#endif
