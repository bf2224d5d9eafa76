/*
 * NAME
 *	store_limits 3
 * SUMMARY
 *	the backend-neutral entry points of the sending limits
 * SYNOPSIS
 *	#include "store.h"
 * DESCRIPTION
 *	The business rules about limit data live here, not in a backend:
 *	which row wins (the user's, then the domain's), what a subject may
 *	look like, and that a stored spec is the canonical text of
 *	limit_spec_format() (a row that does not parse is a store error,
 *	never "no limit"). A backend only stores and fetches rows, and runs
 *	the counting transaction (store_backend.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit_window.h"
#include "log.h"
#include "store.h"
#include "store_backend.h"

static const char *const store_limit_kind_names[STORE_LIMIT_KINDS] = {
	[STORE_LIMIT_RECIPIENTS] = "recipients",
	[STORE_LIMIT_MESSAGES] = "messages",
};

/* store_limit_kind_name - the kind as stored and shown */
const char *store_limit_kind_name(enum store_limit_kind kind)
{
	if ((unsigned)kind >= STORE_LIMIT_KINDS)
		return "unknown";
	return store_limit_kind_names[kind];
}

int store_limit_kind_of(const char *name)
{
	for (int k = 0; k < STORE_LIMIT_KINDS; k++)
		if (name != NULL && strcmp(name, store_limit_kind_names[k]) == 0)
			return k;
	return -1;
}

void store_limit_tally(const struct store_limit_charge *c, int kind, int64_t window,
		       const struct limit_bucket *b, struct store_limit_state *state,
		       bool stale_r[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX])
{
	const struct limit_spec *spec;

	if (kind < 0 || kind >= STORE_LIMIT_KINDS || (spec = c->spec[kind]) == NULL)
		return;
	/* Rows of a window no longer in the spec do not count. */
	for (unsigned w = 0; w < spec->count && w < LIMIT_WINDOWS_MAX; w++) {
		uint64_t add;

		if (spec->windows[w].seconds != window)
			continue;
		add = limit_window_used(b, 1, state->now, window);
		if (b->bucket < limit_window_oldest(state->now, window))
			stale_r[kind][w] = true;	/* expire it when adding */
		state->used[kind][w] = state->used[kind][w] > UINT64_MAX - add
					       ? UINT64_MAX
					       : state->used[kind][w] + add;
	}
}

bool store_limit_judge(const struct store_limit_charge *c, struct store_limit_state *state)
{
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		int w;

		if (c->spec[k] == NULL)
			continue;
		w = limit_window_crossed(c->spec[k], state->used[k], c->add[k]);
		if (w >= 0) {
			state->crossed_kind = k;
			state->crossed_window = w;
			return true;
		}
	}
	return false;
}

/* store_limit_subject_ok - a user name or "@domain", bounded, no control characters */
static int store_limit_subject_ok(const char *subject, char **error_r)
{
	size_t len = strlen(subject);

	if (len == 0 || len >= STORE_USER_MAX)
		return error_r_set(error_r, "user or @domain must be 1 to %d characters",
				   STORE_USER_MAX - 1);
	if (strcmp(subject, "@") == 0)
		return error_r_set(error_r, "\"@\" names no domain; write @example.org");
	for (const unsigned char *p = (const unsigned char *)subject; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return error_r_set(error_r, "control character in \"%s\"", subject);
	return 0;
}

/* store_limit_spec_parse - one stored row's text, or a store error */
static int store_limit_spec_parse(const char *subject, enum store_limit_kind kind,
				  const char *text, struct limit_spec *spec_r)
{
	char *error = NULL;

	if (limit_spec_parse(text, spec_r, &error) == 0)
		return 0;
	/* Only authrelayctl writes rows, in canonical form: a row that
	   does not parse was written by hand. Not "no limit". */
	log_warning("limit of %s (%s) in the database does not parse: %s", subject,
		    store_limit_kind_name(kind), error ? error : "bad limit");
	free(error);
	return -1;
}

/* no_limits - a backend without sending limits: an error, never a crash
   (the enforcers answer on_store_error for what a limit would count) */
static int no_limits(const struct store *store, char **error_r)
{
	return error_r_set(error_r, "sending limits are not available with the %s database yet",
			   store->ops->name);
}

int store_limit_rules(struct store *store, const char *username,
		      enum lookup_result found_r[STORE_LIMIT_KINDS],
		      struct limit_spec spec_r[STORE_LIMIT_KINDS])
{
	char text[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX];
	const char *at, *domain = NULL;

	if (store == NULL || username == NULL || found_r == NULL || spec_r == NULL)
		return -1;
	for (int k = 0; k < STORE_LIMIT_KINDS; k++)
		found_r[k] = LOOKUP_NOT_FOUND;
	if (*username == '\0' || strlen(username) >= STORE_USER_MAX)
		return 0;	/* no row can be there */
	/* The domain of "alice@example.org" is "@example.org"; a name
	   without a domain has only its own rows. */
	at = strrchr(username, '@');
	if (at != NULL && at != username && at[1] != '\0')
		domain = at;
	/* A backend without limit rows cannot hold one for this user: no
	   row is the truth. */
	if (store->ops->limit_rules_get == NULL)
		return 0;
	switch (store->ops->limit_rules_get(store, username, domain, text)) {
	case LOOKUP_FOUND:
		break;
	case LOOKUP_NOT_FOUND:
		return 0;
	default:
		return -1;
	}
	/* Most specific wins, per kind: the user's row, then the domain's. */
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		int which = text[0][k][0] != '\0' ? 0 : text[1][k][0] != '\0' ? 1 : -1;

		if (which < 0)
			continue;
		if (store_limit_spec_parse(which ? domain : username, k, text[which][k],
					   &spec_r[k]) != 0)
			return -1;
		found_r[k] = LOOKUP_FOUND;
	}
	return 0;
}

enum lookup_result store_limit_rule(struct store *store, const char *username,
				    enum store_limit_kind kind, struct limit_spec *spec_r)
{
	enum lookup_result found[STORE_LIMIT_KINDS];
	struct limit_spec spec[STORE_LIMIT_KINDS];

	if ((unsigned)kind >= STORE_LIMIT_KINDS || spec_r == NULL ||
	    store_limit_rules(store, username, found, spec) != 0)
		return LOOKUP_ERROR;
	if (found[kind] == LOOKUP_FOUND)
		*spec_r = spec[kind];
	return found[kind];
}

int store_limit_set(struct store *store, const char *subject, enum store_limit_kind kind,
		    const struct limit_spec *spec, const char *actor, char **error_r)
{
	char text[LIMIT_SPEC_TEXT_MAX];

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || subject == NULL || spec == NULL || actor == NULL ||
	    (unsigned)kind >= STORE_LIMIT_KINDS)
		return error_r_set(error_r, "store_limit_set: bad arguments");
	if (store_limit_subject_ok(subject, error_r) != 0)
		return -1;
	if (!spec->unlimited && spec->count == 0)
		return error_r_set(error_r, "a limit of none is no row: use limit clear");
	limit_spec_format(spec, text, sizeof text);
	if (store->ops->limit_set == NULL)
		return no_limits(store, error_r);
	return store->ops->limit_set(store, subject, store_limit_kind_name(kind), text, actor,
				     error_r);
}

int store_limit_clear(struct store *store, const char *subject, const char *actor,
		      char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || subject == NULL || actor == NULL)
		return error_r_set(error_r, "store_limit_clear: bad arguments");
	if (store_limit_subject_ok(subject, error_r) != 0)
		return -1;
	if (store->ops->limit_clear == NULL)
		return no_limits(store, error_r);
	return store->ops->limit_clear(store, subject, actor, error_r);
}

int store_limit_list(struct store *store, store_limit_rule_cb *cb, void *ctx, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_limit_list: bad arguments");
	if (store->ops->limit_list == NULL)
		return no_limits(store, error_r);
	return store->ops->limit_list(store, cb, ctx, error_r);
}

int store_limit_charge(struct store *store, const struct store_limit_charge *c,
		       struct store_limit_state *state_r, char **error_r)
{
	struct store_limit_state state;

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || c == NULL || state_r == NULL || c->subject == NULL ||
	    c->subject[0] == '\0' || strlen(c->subject) >= STORE_USER_MAX)
		return error_r_set(error_r, "store_limit_charge: bad arguments");
	if (store->ops->limit_charge == NULL)
		return no_limits(store, error_r);
	/* The backend fills a fresh state; the caller sees it only whole. */
	memset(&state, 0, sizeof state);
	state.crossed_kind = -1;
	state.crossed_window = -1;
	if (store->ops->limit_charge(store, c, &state, error_r) != 0)
		return -1;
	*state_r = state;
	return 0;
}

int store_limit_refused(struct store *store, const struct store_limit_refusal *r,
			unsigned *refusals_r, bool *suspended_r, bool *notify_r, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || r == NULL || r->subject == NULL || r->actor == NULL ||
	    refusals_r == NULL || suspended_r == NULL || notify_r == NULL ||
	    r->subject[0] == '\0' || strlen(r->subject) >= STORE_USER_MAX)
		return error_r_set(error_r, "store_limit_refused: bad arguments");
	if (store->ops->limit_refused == NULL)
		return no_limits(store, error_r);
	return store->ops->limit_refused(store, r, refusals_r, suspended_r, notify_r, error_r);
}
