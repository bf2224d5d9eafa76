/*
 * NAME
 *	addr 3h
 * SUMMARY
 *	envelope address normalisation and sender ownership patterns
 * DESCRIPTION
 *	An envelope address arrives as "<Alice+news@Example.ORG>", "alice"
 *	or "<>". Normalised, it is "alice+news@example.org": angle brackets
 *	and surrounding white space removed, the domain lower-cased, the local
 *	part kept as it is (RFC 5321: it is the receiving site's business).
 *	Ownership compares the address without its +tag extension.
 *
 *	An ownership pattern is one of
 *	  user@domain  that address (a +tag on the pattern is refused)
 *	  @domain      every address in that domain (not its subdomains)
 *	  *            every address
 */
#ifndef AUTHRELAY_ADDR_H
#define AUTHRELAY_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 path limit plus room; longer input is refused, not cut. */
#define ADDR_MAX 320

/* The extension delimiter (Postfix recipient_delimiter default). */
#define ADDR_TAG_DELIMITER '+'

/* Normalises an envelope address into out (size at least ADDR_MAX).
   "<>" and "" give "" (the null sender). Returns 0, or -1 for text
   that is too long, contains control characters, white space inside,
   more than one unquoted '@', or an empty local part or domain. */
int addr_normalize(const char *in, char *out, size_t size);

/* Copies a normalised address without its +tag into out (same size
   rule): "a+x@d" -> "a@d". An address without a tag is copied as is. */
void addr_strip_tag(const char *normalized, char *out, size_t size);

/* Returns the domain part of a normalised address (after the last '@'),
   or "" when there is none. */
const char *addr_domain(const char *normalized);

/* Normalises an ownership pattern (user@domain, @domain or *) into out.
   Returns 0, or -1 with *error_r a malloc'd message that says why. */
int addr_pattern_normalize(const char *in, char *out, size_t size, char **error_r);

/* Returns true when the normalised pattern covers the normalised address
   (its +tag is ignored). The null sender "" is covered by nothing but
   "*". */
bool addr_pattern_match(const char *pattern, const char *normalized);

#endif
