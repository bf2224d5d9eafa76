/*
 * NAME
 *	cert_pem 3
 * SUMMARY
 *	client certificate fingerprints, computed as Postfix reports them
 * DESCRIPTION
 *	See cert_pem.h. The digest is sha256: what Postfix 3.6 and later
 *	use by default (compatibility_level 3.6). A site that still sets
 *	smtpd_tls_fingerprint_digest = md5 or sha1 must change it to sha256
 *	for certificate relay to match (authrelayctl check says so).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "error_r.h"
#include "cert_pem.h"

/* cert_fingerprint_encode - "AB:CD:..." as Postfix's tls_digest_encode */
void cert_fingerprint_encode(const unsigned char *md, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len && o + 3 <= size; i++) {
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 0xf];
		if (i + 1 < len && o + 1 < size)
			out[o++] = ':';
	}
	out[o < size ? o : size - 1] = 0;
}

/* Converts an ASN1_TIME to Unix seconds. */
static int asn1_time_to_unix(const ASN1_TIME *t, int64_t *secs_r)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*secs_r = (int64_t)timegm(&tm);
	return 0;
}

/* cert_pem_read - fingerprints, subject and expiry of a PEM certificate */
int cert_pem_read(const char *path, int64_t now, struct store_cert *cert_r, char **error_r)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char *der = NULL;
	int64_t not_before = 0;
	X509 *x = NULL;
	FILE *fp;
	int derlen, ret = -1;

	fp = fopen(path, "re");
	if (fp == NULL) {
		error_r_set(error_r, "%s: %s", path, strerror(errno));
		return -1;
	}
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x == NULL) {
		ERR_clear_error();
		error_r_set(error_r, "%s: no PEM certificate found (expected a "
				   "\"-----BEGIN CERTIFICATE-----\" block)", path);
		return -1;
	}
	if (asn1_time_to_unix(X509_get0_notAfter(x), &cert_r->not_after) < 0 ||
	    asn1_time_to_unix(X509_get0_notBefore(x), &not_before) < 0) {
		error_r_set(error_r, "%s: certificate has unreadable validity dates", path);
		goto done;
	}
	if (cert_r->not_after < now) {
		char when[32];
		time_t t = (time_t)cert_r->not_after;
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		error_r_set(error_r, "%s: certificate expired on %s", path, when);
		goto done;
	}
	if (not_before > now) {
		char when[32];
		time_t t = (time_t)not_before;
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		error_r_set(error_r, "%s: certificate is not valid before %s", path, when);
		goto done;
	}
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1) {
		error_r_set(error_r, "%s: cannot compute the certificate digest", path);
		goto done;
	}
	cert_fingerprint_encode(md, mdlen, cert_r->fingerprint, sizeof cert_r->fingerprint);
	derlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (derlen <= 0 || EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) != 1) {
		error_r_set(error_r, "%s: cannot compute the public key digest", path);
		goto done;
	}
	cert_fingerprint_encode(md, mdlen, cert_r->pubkey_fingerprint,
				sizeof cert_r->pubkey_fingerprint);
	X509_NAME_oneline(X509_get_subject_name(x), cert_r->subject, sizeof cert_r->subject);
	ret = 0;
done:
	OPENSSL_free(der);
	X509_free(x);
	ERR_clear_error();
	return ret;
}
