/*
 * NAME
 *	fuzz_cfg - libFuzzer target for the configuration file grammar
 * DESCRIPTION
 *	Arbitrary file contents go through cfg_load_string. Success gives a
 *	config whose strings are never NULL; failure gives FILE:LINE
 *	messages naming the file; neither leaks (LeakSanitizer).
 */
#include "cfg.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size, 65536);
	struct authrelay_config *cfg = NULL;
	char *error = NULL;

	if (text == NULL)
		return 0;
	if (cfg_load_string("fuzz.conf", text, &cfg, &error) == 0) {
		FUZZ_ASSERT(cfg != NULL);
		FUZZ_ASSERT(cfg->database != NULL && cfg->run_user != NULL);
		FUZZ_ASSERT(cfg->policyd_listen != NULL && cfg->milter_socket != NULL);
		FUZZ_ASSERT(cfg->grant_ipv6_prefix >= 1 && cfg->grant_ipv6_prefix <= 128);
		FUZZ_ASSERT(cfg->grant_ttl >= 0);
		cfg_free(&cfg);
		FUZZ_ASSERT(cfg == NULL);
	} else {
		FUZZ_ASSERT(error != NULL);
		FUZZ_ASSERT(strncmp(error, "fuzz.conf:", 10) == 0);
		free(error);
	}
	free(text);
	return 0;
}
