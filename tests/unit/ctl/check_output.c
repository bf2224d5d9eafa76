/*
 * NAME
 *	check_output 1
 * SUMMARY
 *	table tests of authrelayctl's JSON and HTML escaping and text tables
 * DESCRIPTION
 *	Every case is written through a memory stream and compared byte
 *	for byte with what it must be.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "test_run.h"

/* Runs fn(fp) into a memory stream and returns the text (caller frees). */
static char *capture_json(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	out_json_string(fp, s);
	fclose(fp);
	return buf;
}

static const struct {
	const char *label;
	const char *in;
	const char *want;
} json_cases[] = {
	{"plain", "alice@example.org", "\"alice@example.org\""},
	{"NULL is null", NULL, "null"},
	{"empty", "", "\"\""},
	{"quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\""},
	{"CR LF TAB", "a\r\nb\tc", "\"a\\r\\nb\\tc\""},
	{"other controls as \\u", "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
	{"ESC sequence", "\x1b[2J", "\"\\u001b[2J\""},
	{"valid 2-byte UTF-8 kept", "J\xc3\xbcrgen", "\"J\xc3\xbcrgen\""},
	{"valid 3-byte UTF-8 kept", "\xe2\x82\xac", "\"\xe2\x82\xac\""},
	{"valid 4-byte UTF-8 kept", "\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\""},
	{"lone continuation byte", "a\x80z", "\"a\\ufffdz\""},
	{"Latin-1 byte", "J\xfcrgen", "\"J\\ufffdrgen\""},
	{"overlong slash", "\xc0\xaf", "\"\\ufffd\\ufffd\""},
	{"overlong 3-byte", "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},
	{"surrogate", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
	{"above U+10FFFF", "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
	{"truncated at end", "ab\xe2\x82", "\"ab\\ufffd\\ufffd\""},
	{"slash kept", "a/b", "\"a/b\""},
};

START_TEST(test_json_string)
{
	char *got = capture_json(json_cases[_i].in);

	ck_assert_msg(strcmp(got, json_cases[_i].want) == 0, "%s: got %s, want %s",
		      json_cases[_i].label, got, json_cases[_i].want);
	free(got);
}
END_TEST

static const struct {
	const char *label;
	const char *in;
	const char *want;
} text_cases[] = {
	{"plain", "alice", "alice"},
	{"CR LF", "a\r\nb", "a??b"},
	{"ESC", "\x1b[2Jx", "?[2Jx"},
	{"C1 control (U+009B CSI)", "a\xc2\x9b" "b", "a?b"},
	{"UTF-8 kept", "J\xc3\xbcrgen", "J\xc3\xbcrgen"},
	{"invalid byte", "J\xfcrgen", "J?rgen"},
};

START_TEST(test_text_value)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	out_text_value(fp, text_cases[_i].in);
	fclose(fp);
	ck_assert_msg(strcmp(buf, text_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      text_cases[_i].label, buf, text_cases[_i].want);
	free(buf);
}
END_TEST

static const struct out_column cols[] = {
	{"ip", OUT_STRING},
	{"prefix_len", OUT_INT},
	{"suspended", OUT_BOOL},
	{"username", OUT_STRING},
};

static char *table(bool json, const char *const rows[][4], size_t nrows)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct out_table *t = out_table_new(fp, json, cols, 4);

	for (size_t i = 0; i < nrows; i++)
		out_table_row(t, rows[i]);
	out_table_end(&t);
	ck_assert_ptr_null(t);
	fclose(fp);
	return buf;
}

START_TEST(test_tables)
{
	static const char *const rows[][4] = {
		{"192.0.2.7", "32", "false", "alice"},
		{"2001:db8::", "64", "true", NULL},
		{"x\"y", "12a", "true", "ev\nil"},
	};
	static const struct {
		const char *label;
		bool json;
		size_t nrows;
		const char *want;
	} cases[] = {
		{"json, no rows", true, 0, "[]\n"},
		{"json rows", true, 3,
		 "[\n"
		 "  {\"ip\": \"192.0.2.7\", \"prefix_len\": 32, \"suspended\": false, \"username\": \"alice\"},\n"
		 "  {\"ip\": \"2001:db8::\", \"prefix_len\": 64, \"suspended\": true, \"username\": null},\n"
		 "  {\"ip\": \"x\\\"y\", \"prefix_len\": \"12a\", \"suspended\": true, \"username\": \"ev\\nil\"}\n"
		 "]\n"},
		{"text, no rows", false, 0, "ip  prefix_len  suspended  username\n"},
		{"text rows", false, 3,
		 "ip          prefix_len  suspended  username\n"
		 "192.0.2.7   32          no         alice\n"
		 "2001:db8::  64          yes        -\n"
		 "x\"y         12a         yes        ev?il\n"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = table(cases[i].json, rows, cases[i].nrows);

		ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s: got\n%s\nwant\n%s",
			      cases[i].label, got, cases[i].want);
		free(got);
	}
}
END_TEST

/* A value wider than OUT_TEXT_WIDTH_MAX overflows its column but keeps
   two spaces before the next one (seen with sha256 fingerprints). */
START_TEST(test_text_overflow_keeps_separator)
{
	char wide[OUT_TEXT_WIDTH_MAX + 20];
	const char *rows[][4] = { { wide, "1", "true", "next" } };
	char want[256];
	char *got;

	memset(wide, 'F', sizeof wide - 1);
	wide[sizeof wide - 1] = 0;
	snprintf(want, sizeof want, "%-*s  prefix_len  suspended  username\n%s  1           yes        next\n",
		 OUT_TEXT_WIDTH_MAX, "ip", wide);
	got = table(false, rows, 1);
	ck_assert_msg(strcmp(got, want) == 0, "got\n%s\nwant\n%s", got, want);
	free(got);
}
END_TEST

/* More rows than one batch: widths come from the first batch, and every
   row is written exactly once. */
START_TEST(test_text_batches)
{
	enum { N = OUT_TEXT_BATCH + 5 };
	char *buf = NULL;
	size_t len = 0, lines = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct out_table *t = out_table_new(fp, false, cols, 4);

	for (int i = 0; i < N; i++) {
		char n[16];
		const char *row[4] = {"192.0.2.1", n, "false", "u"};

		snprintf(n, sizeof n, "%d", i);
		out_table_row(t, row);
	}
	out_table_end(&t);
	fclose(fp);
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	ck_assert_msg(lines == N + 1, "got %zu lines, want %d", lines, N + 1);
	ck_assert_msg(strstr(buf, "\n192.0.2.1  1004        no         u\n") != NULL,
		      "last row missing or misaligned");
	free(buf);
}
END_TEST

static const struct {
	const char *label;
	const char *in;
	const char *want;
} html_cases[] = {
	{"plain", "alice@example.org", "alice@example.org"},
	{"NULL writes nothing", NULL, ""},
	{"script tag", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
	{"attribute breakout", "\"><img src=x onerror=alert(1)>",
	 "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"},
	{"single quote", "a'b", "a&#39;b"},
	{"ampersand first", "&lt;", "&amp;lt;"},
	{"controls", "a\r\n\tb\x1b", "a&#xFFFD;&#xFFFD;&#xFFFD;b&#xFFFD;"},
	{"UTF-8 kept", "J\xc3\xbcrgen \xe2\x82\xac", "J\xc3\xbcrgen \xe2\x82\xac"},
	{"invalid byte", "J\xfcrgen", "J&#xFFFD;rgen"},
	{"surrogate", "\xed\xa0\x80", "&#xFFFD;&#xFFFD;&#xFFFD;"},
};

START_TEST(test_html_text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	out_html_text(fp, html_cases[_i].in);
	fclose(fp);
	ck_assert_msg(strcmp(buf, html_cases[_i].want) == 0, "%s: got %s, want %s",
		      html_cases[_i].label, buf, html_cases[_i].want);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_json_string, 0,
			    (int)(sizeof json_cases / sizeof json_cases[0]));
	tcase_add_loop_test(tc, test_text_value, 0,
			    (int)(sizeof text_cases / sizeof text_cases[0]));
	tcase_add_loop_test(tc, test_html_text, 0,
			    (int)(sizeof html_cases / sizeof html_cases[0]));
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_text_overflow_keeps_separator);
	tcase_add_test(tc, test_text_batches);
	suite_add_tcase(s, tc);
	return test_run(s);
}
