/*
 * NAME
 *	store_rules 3h
 * SUMMARY
 *	the business rules every store backend answers by (private)
 * SYNOPSIS
 *	#include "store_rules.h"
 * DESCRIPTION
 *	What makes two spellings of one sender, one certificate or one
 *	grant the same is decided here once, by store.c, before a backend
 *	is asked: a backend receives normalised, checked values and only
 *	stores or finds them, so SQLite and PostgreSQL give the same answer
 *	to the same question (issue 14). Pure functions, no store.
 */
#ifndef AUTHRELAY_STORE_RULES_H
#define AUTHRELAY_STORE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "store.h"

/* The patterns that can cover one sender address: the address without
   its +tag, and "@" with its domain ("" where there is none: the null
   sender has neither, a bare local part no domain). "*" covers every
   address and is not listed. Matching a stored (addr_pattern_normalize()d)
   pattern for equality against these is addr_pattern_match()'s answer. */
struct store_sender_key {
	char bare[ADDR_MAX];
	char at_domain[ADDR_MAX + 1];
};

/* Fills *key_r from an envelope or header address. Returns 0, or -1 when
   address does not normalise (addr_normalize()): no pattern covers it,
   not even "*", an answer about the address and not a store failure. */
int store_rules_sender_key(const char *address, struct store_sender_key *key_r);

/* Normalises a certificate fingerprint to Postfix's form: upper-case
   hex pairs joined by ':' ("ab:CD01" -> "AB:CD:01"). Separators ':'
   and white space may appear anywhere in the input. Returns 0, or -1
   for an empty value, a character that is not hex, an odd number of
   digits, or a result that does not fit size. */
int store_fingerprint_normalize(const char *in, char *out, size_t size);

/* The same, with an error that quotes what was given. */
int store_rules_fingerprint(const char *in, char out[STORE_FPR_MAX], char **error_r);

/* A certificate to register: *out_r is cert with both fingerprints
   normalised (the public-key one may be ""), after checking that the
   user name is set and the text fields fit. Returns 0 or -1. */
int store_rules_cert(const struct store_cert *cert, struct store_cert *out_r, char **error_r);

/* One login or one manual grant, checked before any transaction: an
   address with a prefix that fits it, terminated text fields (user and
   service required for a login), an expiry after the start. A manual
   grant's start is first_seen, or now when that is 0. Returns 0 or -1. */
int store_rules_login(const struct store_login *login, char **error_r);
int store_rules_grant(const struct store_grant *grant, int64_t now, char **error_r);
int store_rules_checkpoint(const struct store_checkpoint *cp, char **error_r);

/* The rows store_prune() removes, in the order it removes them: the
   bulk (decisions, expired grants) first, the sending limits' few rows
   last. */
enum store_prune_table {
	STORE_PRUNE_DECISIONS = 0,
	STORE_PRUNE_GRANTS,
	STORE_PRUNE_LIMIT_REFUSALS,
	STORE_PRUNE_LIMIT_COUNTS,
	STORE_PRUNE_TABLES
};

/* A prune's admin_log subject (the cut-off as ISO-8601 UTC) and detail
   ("decisions=N grants=N", the limits' counts when any, and a note when
   an error stopped it). */
void store_rules_prune_log(int64_t before, const uint64_t counts[STORE_PRUNE_TABLES],
			   bool stopped, char subject_r[32], char detail_r[160]);

#endif
