/*
 * NAME
 *	fuzz_duration - libFuzzer target for duration parsing
 * DESCRIPTION
 *	What parses is non-negative and prints back to text that parses to
 *	the same number of seconds.
 */
#include "duration.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size, 256);
	long long seconds, again;
	char buf[64];
	char *error = NULL;

	if (text == NULL)
		return 0;
	if (duration_parse(text, &seconds, &error) == 0) {
		FUZZ_ASSERT(seconds >= 0);
		duration_format(seconds, buf, sizeof buf);
		FUZZ_ASSERT(duration_parse(buf, &again, &error) == 0);
		FUZZ_ASSERT(again == seconds);
	} else {
		FUZZ_ASSERT(error != NULL);
		free(error);
	}
	free(text);
	return 0;
}
