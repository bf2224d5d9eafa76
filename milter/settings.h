/*
 * NAME
 *	settings 3h
 * SUMMARY
 *	the configuration the callbacks use, swapped on reload
 * DESCRIPTION
 *	A callback takes a reference for its own duration; SIGUSR1 installs
 *	a new configuration without waiting for anyone. The old one is
 *	freed by whoever drops its last reference, so a callback never sees
 *	a configuration change half way, and a reload never blocks mail.
 */
#ifndef AUTHRELAY_MILTER_SETTINGS_H
#define AUTHRELAY_MILTER_SETTINGS_H

#include "cfg.h"
#include "decide.h"

struct milter_settings {
	const struct authrelay_config *cfg;
	struct relay_policy policy;	/* relay_policy_from_config(cfg, true) */
};

/* Makes cfg (ownership taken) the current configuration. Returns 0, or
   -1 when out of memory (cfg is freed, the old one stays). */
int settings_install(struct authrelay_config *cfg);

/* Returns the current settings with a reference held, or NULL before
   the first settings_install(). */
const struct milter_settings *settings_acquire(void);

/* Drops the reference and sets *settings to NULL; NULL is fine. */
void settings_release(const struct milter_settings **settings);

/* Drops the current settings (at exit). */
void settings_shutdown(void);

#endif
