/*
 * NAME
 *	check_cert_pem - fingerprints of client certificates
 * DESCRIPTION
 *	The reference is the openssl command line, which the Postfix
 *	documentation names for the same values: `openssl x509 -fingerprint
 *	-sha256` for ccert_fingerprint, and the DER public key piped through
 *	`openssl dgst -sha256` for ccert_pubkey_fingerprint. Certificates are
 *	made fresh in a temporary directory (RSA and EC keys).
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert_pem.h"
#include "test_tmpdir.h"

static const char *dir;

/* Runs a shell command and returns its first output line, trimmed. */
static void run_line(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");

	ck_assert_msg(p != NULL, "popen %s", cmd);
	out[0] = 0;
	if (fgets(out, (int)size, p) == NULL)
		out[0] = 0;
	pclose(p);
	out[strcspn(out, "\r\n")] = 0;
}

/* What openssl says, upper-cased, after the '=' (or "= " of dgst). */
static void openssl_value(const char *cmd, char *out, size_t size)
{
	char line[512];
	const char *eq;

	run_line(cmd, line, sizeof line);
	eq = strrchr(line, '=');
	ck_assert_msg(eq != NULL, "no '=' in openssl output \"%s\" of %s", line, cmd);
	eq++;
	while (*eq == ' ')
		eq++;
	snprintf(out, size, "%s", eq);
	for (char *p = out; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

static void make_cert(const char *name, const char *keyopt, int days)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey %s -nodes -days %d -subj /CN=%s "
		 "-keyout %s/%s.key -out %s/%s.pem 2>/dev/null",
		 keyopt, days, name, dir, name, dir, name);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	dir = test_tmpdir_create("check_cert_pem");
	make_cert("rsa", "rsa:2048", 30);
	make_cert("ec", "ec -pkeyopt ec_paramgen_curve:P-256", 30);
}

static const char *const key_kinds[] = { "rsa", "ec" };

START_TEST(test_fingerprints_equal_openssl)
{
	const char *kind = key_kinds[_i];
	struct store_cert cert = { 0 };
	char path[256], cmd[1024], want_fp[256], want_pk[256], *error = NULL;

	snprintf(path, sizeof path, "%s/%s.pem", dir, kind);
	ck_assert_msg(cert_pem_read(path, time(NULL), &cert, &error) == 0, "%s: got error %s",
		      kind, error ? error : "?");
	snprintf(cmd, sizeof cmd, "openssl x509 -noout -fingerprint -sha256 -in %s", path);
	openssl_value(cmd, want_fp, sizeof want_fp);
	snprintf(cmd, sizeof cmd,
		 "openssl x509 -in %s -noout -pubkey | openssl pkey -pubin -outform DER | "
		 "openssl dgst -sha256 -c",
		 path);
	openssl_value(cmd, want_pk, sizeof want_pk);
	ck_assert_msg(strcmp(cert.fingerprint, want_fp) == 0, "%s fingerprint: got %s, want %s",
		      kind, cert.fingerprint, want_fp);
	ck_assert_msg(strcmp(cert.pubkey_fingerprint, want_pk) == 0,
		      "%s pubkey fingerprint: got %s, want %s", kind, cert.pubkey_fingerprint,
		      want_pk);
	ck_assert_msg(strstr(cert.subject, kind) != NULL, "%s subject: got %s", kind,
		      cert.subject);
	ck_assert_msg(cert.not_after > time(NULL) + 29 * 86400, "%s not_after: got %lld", kind,
		      (long long)cert.not_after);
}
END_TEST

/* Files and times that must be refused, and the words the error must hold. */
static const struct bad_case {
	const char *label;
	const char *file;	/* relative to dir, or absolute */
	long long now_offset;	/* added to not_after (+) or time(NULL) */
	int relative_to_expiry;
	const char *want;
} bad_cases[] = {
	{ "expired a second ago", "rsa.pem", 1, 1, "expired on" },
	{ "not valid yet", "rsa.pem", -86400 * 2, 0, "not valid before" },
	{ "a private key, not a certificate", "rsa.key", 0, 0, "no PEM certificate" },
	{ "missing file", "nothing-here.pem", 0, 0, "No such file" },
};

START_TEST(test_bad_inputs)
{
	const struct bad_case *c = &bad_cases[_i];
	struct store_cert cert = { 0 };
	char path[256], *error = NULL;
	int64_t now = time(NULL) + c->now_offset;

	snprintf(path, sizeof path, "%s/%s", dir, c->file);
	if (c->relative_to_expiry) {
		ck_assert_int_eq(cert_pem_read(path, time(NULL), &cert, &error), 0);
		now = cert.not_after + c->now_offset;
	}
	ck_assert_msg(cert_pem_read(path, now, &cert, &error) == -1, "%s: got success, want error",
		      c->label);
	ck_assert_msg(error != NULL && strstr(error, c->want) != NULL,
		      "%s: got error \"%s\", want one with \"%s\"", c->label, error ? error : "(null)",
		      c->want);
	ck_assert_msg(strstr(error, path) != NULL, "%s: error \"%s\" does not name the file",
		      c->label, error);
	free(error);
}
END_TEST

static const struct encode_case {
	const char *label;
	unsigned char md[4];
	size_t len, size;
	const char *want;
} encode_cases[] = {
	{ "two bytes", { 0x00, 0xff }, 2, 16, "00:FF" },
	{ "upper case hex", { 0xab, 0xcd, 0xef }, 3, 16, "AB:CD:EF" },
	{ "one byte, no colon", { 0x5a }, 1, 16, "5A" },
	{ "nothing", { 0 }, 0, 16, "" },
	{ "buffer too small: whole bytes only", { 0x01, 0x02, 0x03 }, 3, 6, "01:02" },
};

START_TEST(test_encode)
{
	const struct encode_case *c = &encode_cases[_i];
	char out[16];

	memset(out, 'x', sizeof out);
	cert_fingerprint_encode(c->md, c->len, out, c->size);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->label, out,
		      c->want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cert_pem");
	TCase *tc = tcase_create("cert_pem");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, setup, test_tmpdir_remove);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_fingerprints_equal_openssl, 0,
			    sizeof key_kinds / sizeof key_kinds[0]);
	tcase_add_loop_test(tc, test_bad_inputs, 0, sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_loop_test(tc, test_encode, 0, sizeof encode_cases / sizeof encode_cases[0]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
