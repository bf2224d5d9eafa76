/*
 * NAME
 *	check_reply 1
 * SUMMARY
 *	table tests for milter/reply.c
 * DESCRIPTION
 *	Safe reply text (CR/LF/control characters, '%' doubling, cutting
 *	that never splits a doubled '%') and verdict-to-reply translation
 *	at each stage.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "test_run.h"

static const struct {
	const char *label, *in;
	size_t size;
	const char *want;
} safe_cases[] = {
	{ "plain", "Relay access denied", 64, "Relay access denied" },
	{ "NULL", NULL, 64, "" },
	{ "percent doubled", "100% sure", 64, "100%% sure" },
	{ "two percents", "%s%d", 64, "%%s%%d" },
	{ "CRLF to spaces", "a\r\nb", 64, "a  b" },
	{ "LF to space", "line1\nline2", 64, "line1 line2" },
	{ "tab and NUL-free control", "a\tb\x01" "c\x7f", 64, "a b c " },
	{ "8-bit kept", "j\xc3\xb6rg", 64, "j\xc3\xb6rg" },
	{ "cut to size", "abcdef", 4, "abc" },
	{ "doubled percent never split", "ab%", 4, "ab" },
	{ "doubled percent fits exactly", "a%", 4, "a%%" },
	{ "size 1", "abc", 1, "" },
};

START_TEST(test_text_safe)
{
	char out[64];

	memset(out, 'X', sizeof out);
	reply_text_safe(safe_cases[_i].in, out, safe_cases[_i].size);
	ck_assert_msg(strcmp(out, safe_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      safe_cases[_i].label, out, safe_cases[_i].want);
}
END_TEST

static const struct {
	const char *label;
	enum relay_verdict_kind kind;
	const char *status, *reason;
	enum reply_stage stage;
	enum reply_action want_action;
	const char *want_rcode, *want_xcode, *want_text;
} verdict_cases[] = {
	{ "permit at rcpt", VERDICT_PERMIT, "", "", REPLY_STAGE_RCPT, REPLY_CONTINUE, "", "", "" },
	{ "dunno at rcpt is relay denied", VERDICT_DUNNO, "", "", REPLY_STAGE_RCPT, REPLY_REJECT,
	  "554", "5.7.1", "Relay access denied" },
	{ "dunno at eom continues", VERDICT_DUNNO, "", "", REPLY_STAGE_EOM, REPLY_CONTINUE, "", "",
	  "" },
	{ "reject at rcpt", VERDICT_REJECT, "5.7.1", "user bob is suspended", REPLY_STAGE_RCPT,
	  REPLY_REJECT, "554", "5.7.1", "user bob is suspended" },
	{ "reject at eom", VERDICT_REJECT, "5.7.1", "From: x@y not owned", REPLY_STAGE_EOM,
	  REPLY_REJECT, "550", "5.7.1", "From: x@y not owned" },
	{ "reject without status", VERDICT_REJECT, "", "no", REPLY_STAGE_RCPT, REPLY_REJECT, "554",
	  "5.7.1", "no" },
	{ "reject with a 4.x status", VERDICT_REJECT, "4.3.0", "odd", REPLY_STAGE_RCPT,
	  REPLY_REJECT, "554", "5.7.1", "odd" },
	{ "reject without reason", VERDICT_REJECT, "5.7.1", "", REPLY_STAGE_RCPT, REPLY_REJECT,
	  "554", "5.7.1", "Access denied" },
	{ "reject reason with percent", VERDICT_REJECT, "5.7.1", "50% off", REPLY_STAGE_EOM,
	  REPLY_REJECT, "550", "5.7.1", "50%% off" },
	{ "store error (4.3.0 as policyd's DEFER_IF_PERMIT)", VERDICT_TEMPFAIL, "4.3.0",
	  "database busy", REPLY_STAGE_RCPT, REPLY_TEMPFAIL, "451", "4.3.0", "database busy" },
	{ "tempfail at eom", VERDICT_TEMPFAIL, "4.3.0", "", REPLY_STAGE_EOM, REPLY_TEMPFAIL, "451",
	  "4.3.0", "Service temporarily unavailable, try again later" },
	{ "tempfail keeps another 4.x status", VERDICT_TEMPFAIL, "4.7.1", "slow down",
	  REPLY_STAGE_RCPT, REPLY_TEMPFAIL, "451", "4.7.1", "slow down" },
	{ "tempfail with a 5.x status", VERDICT_TEMPFAIL, "5.7.1", "odd", REPLY_STAGE_RCPT,
	  REPLY_TEMPFAIL, "451", "4.3.0", "odd" },
	{ "unknown kind fails safe", (enum relay_verdict_kind)42, "", "", REPLY_STAGE_RCPT,
	  REPLY_TEMPFAIL, "451", "4.3.0", "Service temporarily unavailable, try again later" },
};

START_TEST(test_from_verdict)
{
	struct relay_verdict v;
	struct milter_reply r;

	memset(&v, 0, sizeof v);
	v.kind = verdict_cases[_i].kind;
	v.status = verdict_cases[_i].status;
	snprintf(v.reason, sizeof v.reason, "%s", verdict_cases[_i].reason);
	reply_from_verdict(&v, verdict_cases[_i].stage, &r);
	ck_assert_msg(r.action == verdict_cases[_i].want_action, "%s: got action %s, want %s",
		      verdict_cases[_i].label, reply_action_name(r.action),
		      reply_action_name(verdict_cases[_i].want_action));
	ck_assert_msg(strcmp(r.rcode, verdict_cases[_i].want_rcode) == 0 &&
			      strcmp(r.xcode, verdict_cases[_i].want_xcode) == 0 &&
			      strcmp(r.text, verdict_cases[_i].want_text) == 0,
		      "%s: got \"%s %s %s\", want \"%s %s %s\"", verdict_cases[_i].label, r.rcode,
		      r.xcode, r.text, verdict_cases[_i].want_rcode, verdict_cases[_i].want_xcode,
		      verdict_cases[_i].want_text);
}
END_TEST

START_TEST(test_tempfail)
{
	struct milter_reply r;

	reply_tempfail("out of\r\nmemory 100%", &r);
	ck_assert_msg(r.action == REPLY_TEMPFAIL && strcmp(r.rcode, "451") == 0 &&
			      strcmp(r.xcode, "4.3.0") == 0 &&
			      strcmp(r.text, "out of  memory 100%%") == 0,
		      "got %s \"%s %s %s\"", reply_action_name(r.action), r.rcode, r.xcode,
		      r.text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("milter/reply");
	TCase *tc = tcase_create("reply");

	tcase_add_loop_test(tc, test_text_safe, 0, sizeof safe_cases / sizeof safe_cases[0]);
	tcase_add_loop_test(tc, test_from_verdict, 0,
			    sizeof verdict_cases / sizeof verdict_cases[0]);
	tcase_add_test(tc, test_tempfail);
	suite_add_tcase(s, tc);
	return test_run(s);
}
