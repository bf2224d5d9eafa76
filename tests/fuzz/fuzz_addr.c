/*
 * NAME
 *	fuzz_addr - libFuzzer target for envelope addresses and patterns
 * DESCRIPTION
 *	A normalised address is a fixed point of addr_normalize, holds no
 *	control character or white space outside quotes, and has a lower-case
 *	domain; a normalised pattern is a fixed point of
 *	addr_pattern_normalize; "*" covers every address and a full-address
 *	pattern covers itself, with or without a +tag on the address.
 */
#include <ctype.h>
#include <stdbool.h>

#include "addr.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size, 2 * ADDR_MAX);
	char out[ADDR_MAX], again[ADDR_MAX], bare[ADDR_MAX], pat[ADDR_MAX];
	char *error = NULL;

	if (text == NULL)
		return 0;
	if (addr_normalize(text, out, sizeof out) == 0) {
		FUZZ_ASSERT(strlen(out) < ADDR_MAX);
		FUZZ_ASSERT(addr_normalize(out, again, sizeof again) == 0);
		FUZZ_ASSERT(strcmp(out, again) == 0);
		for (const char *p = addr_domain(out); *p; p++)
			FUZZ_ASSERT(!isupper((unsigned char)*p));
		for (const char *p = out; *p; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f);
		FUZZ_ASSERT(addr_pattern_match("*", out));
		addr_strip_tag(out, bare, sizeof bare);
		FUZZ_ASSERT(strlen(bare) <= strlen(out));
		if (*out && addr_pattern_normalize(bare, pat, sizeof pat, &error) == 0)
			FUZZ_ASSERT(addr_pattern_match(pat, out));
		free(error);
		error = NULL;
	}
	if (addr_pattern_normalize(text, pat, sizeof pat, &error) == 0) {
		FUZZ_ASSERT(addr_pattern_normalize(pat, again, sizeof again, &error) == 0);
		FUZZ_ASSERT(strcmp(pat, again) == 0);
		FUZZ_ASSERT(!addr_pattern_match(pat, "") || strcmp(pat, "*") == 0);
	} else {
		FUZZ_ASSERT(error != NULL);
	}
	free(error);
	free(text);
	return 0;
}
