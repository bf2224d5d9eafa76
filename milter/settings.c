/*
 * NAME
 *	settings 3
 * SUMMARY
 *	the configuration the callbacks use, swapped on reload
 * DESCRIPTION
 *	See settings.h. One mutex guards the pointer and the counts; it is
 *	held for a few instructions, never across a lookup.
 */
#include <pthread.h>
#include <stdlib.h>

#include "settings.h"

struct settings_box {
	struct milter_settings pub;	/* first: the public view */
	struct authrelay_config *cfg;
	unsigned long refs;
};

static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static struct settings_box *settings_current;

/* settings_box_unref - drop one reference; the caller holds the lock */
static struct settings_box *settings_box_unref(struct settings_box *box)
{
	if (box != NULL && --box->refs == 0)
		return box;	/* the caller frees it, outside the lock */
	return NULL;
}

/* settings_box_free - free a box nobody references */
static void settings_box_free(struct settings_box *box)
{
	if (box == NULL)
		return;
	cfg_free(&box->cfg);
	free(box);
}

/* settings_install - make cfg current */
int settings_install(struct authrelay_config *cfg)
{
	struct settings_box *box = calloc(1, sizeof *box), *old;

	if (box == NULL) {
		cfg_free(&cfg);
		return -1;
	}
	box->cfg = cfg;
	box->pub.cfg = cfg;
	relay_policy_from_config(&box->pub.policy, cfg, true);
	box->refs = 1;	/* the "current" reference */
	pthread_mutex_lock(&settings_lock);
	old = settings_box_unref(settings_current);
	settings_current = box;
	pthread_mutex_unlock(&settings_lock);
	settings_box_free(old);
	return 0;
}

/* settings_acquire - current settings, referenced */
const struct milter_settings *settings_acquire(void)
{
	struct settings_box *box;

	pthread_mutex_lock(&settings_lock);
	box = settings_current;
	if (box != NULL)
		box->refs++;
	pthread_mutex_unlock(&settings_lock);
	return box != NULL ? &box->pub : NULL;
}

/* settings_release - drop a reference */
void settings_release(const struct milter_settings **settings)
{
	struct settings_box *box, *dead;

	if (settings == NULL || *settings == NULL)
		return;
	/* pub is the first member: the public pointer is the box's. */
	box = (struct settings_box *)(void *)*settings;
	*settings = NULL;
	pthread_mutex_lock(&settings_lock);
	dead = settings_box_unref(box);
	pthread_mutex_unlock(&settings_lock);
	settings_box_free(dead);
}

/* settings_shutdown - drop the current settings */
void settings_shutdown(void)
{
	struct settings_box *dead;

	pthread_mutex_lock(&settings_lock);
	dead = settings_box_unref(settings_current);
	settings_current = NULL;
	pthread_mutex_unlock(&settings_lock);
	settings_box_free(dead);
}
