/*
 * NAME
 *	lookup 3h
 * SUMMARY
 *	the tri-state result of every lookup
 * DESCRIPTION
 *	A lookup finds, does not find, or fails. The failure is carried to
 *	the reply (on_store_error), never folded into "not found".
 */
#ifndef AUTHRELAY_LOOKUP_H
#define AUTHRELAY_LOOKUP_H

enum lookup_result {
	LOOKUP_ERROR = -1,	/* could not tell: database locked, corrupt, gone */
	LOOKUP_NOT_FOUND = 0,
	LOOKUP_FOUND = 1
};

#endif
