/*
 * NAME
 *	cert_pem 3h
 * SUMMARY
 *	client certificate fingerprints, computed as Postfix reports them
 * DESCRIPTION
 *	Postfix puts two fingerprints of a client certificate into the
 *	policy request: ccert_fingerprint, the digest of the certificate's
 *	DER encoding, and ccert_pubkey_fingerprint, the digest of the DER
 *	SubjectPublicKeyInfo (it survives a renewal with the same key). Both
 *	are upper-case hex bytes joined by ':' (smtpd_tls_fingerprint_digest,
 *	sha256 since Postfix 3.6). cert_pem_read computes both from a PEM file.
 */
#ifndef AUTHRELAY_CERT_PEM_H
#define AUTHRELAY_CERT_PEM_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Reads the first certificate in path and fills cert_r's fingerprint,
   pubkey_fingerprint, subject and not_after (username and added are left
   alone). A file without a PEM certificate, a certificate that expired or
   is not valid yet at now: -1 with *error_r (malloc'd) saying which. */
int cert_pem_read(const char *path, int64_t now, struct store_cert *cert_r, char **error_r);

/* Encodes len digest bytes as "AB:CD:..." into out (size >= 3 * len). */
void cert_fingerprint_encode(const unsigned char *md, size_t len, char *out, size_t size);

#endif
