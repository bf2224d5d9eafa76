/*
 * NAME
 *	store_lookups 3h
 * SUMMARY
 *	decide()'s questions answered by the store
 * DESCRIPTION
 *	Binds struct relay_lookups to a struct store, so a front end calls
 *	decide(req, policy, &lookups, &verdict) with live data (no cache:
 *	a grant written a moment ago is seen).
 */
#ifndef AUTHRELAY_STORE_LOOKUPS_H
#define AUTHRELAY_STORE_LOOKUPS_H

#include "decide.h"
#include "store.h"

/* Fills lookups so that every question goes to store. A NULL store (a
   database that could not be opened) gives lookups that all answer
   LOOKUP_ERROR: decide() then gives on_store_error. */
void store_lookups_init(struct relay_lookups *lookups, struct store *store);

#endif
