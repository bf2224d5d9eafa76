/*
 * NAME
 *	fuzz_limit_spec - libFuzzer target for the N/DURATION limit lists
 * DESCRIPTION
 *	What parses has 0 to LIMIT_WINDOWS_MAX windows, shortest first and
 *	each of a different length, counts and windows within their
 *	bounds; it prints back to text that parses to the same spec. What
 *	does not parse has an error message. The window arithmetic is then
 *	run on the parsed spec at the input's own length as a clock, so
 *	that odd windows meet odd instants.
 */
#include "limit_spec.h"
#include "limit_window.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size, 1024);
	struct limit_spec spec, again;
	char buf[LIMIT_SPEC_TEXT_MAX];
	char *error = NULL;

	if (text == NULL)
		return 0;
	if (limit_spec_parse(text, &spec, &error) == 0) {
		uint64_t used[LIMIT_WINDOWS_MAX] = {0};

		FUZZ_ASSERT(spec.count <= LIMIT_WINDOWS_MAX);
		FUZZ_ASSERT(!spec.unlimited || spec.count == 0);
		for (unsigned i = 0; i < spec.count; i++) {
			int64_t w = spec.windows[i].seconds;
			int64_t now = (int64_t)size * 7919 - 3;
			int64_t b = limit_bucket_seconds(w);
			int64_t start = limit_bucket_start(now, w);

			FUZZ_ASSERT(spec.windows[i].max >= 1 && spec.windows[i].max <= LIMIT_MAX_COUNT);
			FUZZ_ASSERT(w >= 1 && w <= LIMIT_MAX_SECONDS);
			FUZZ_ASSERT(i == 0 || spec.windows[i - 1].seconds < w);
			FUZZ_ASSERT(b >= 1 && b * LIMIT_BUCKETS >= w);
			FUZZ_ASSERT(start <= now && now - start < b && start % b == 0);
			FUZZ_ASSERT(limit_window_oldest(now, w) <= now - w + 1);
			used[i] = spec.windows[i].max;
		}
		/* Full windows are crossed by one more; empty ones are not. */
		FUZZ_ASSERT(limit_window_crossed(&spec, used, 1) == (spec.count ? 0 : -1));
		memset(used, 0, sizeof used);
		FUZZ_ASSERT(limit_window_crossed(&spec, used, 1) == -1);
		limit_spec_format(&spec, buf, sizeof buf);
		FUZZ_ASSERT(limit_spec_parse(buf, &again, &error) == 0);
		FUZZ_ASSERT(again.count == spec.count && again.unlimited == spec.unlimited);
		for (unsigned i = 0; i < spec.count; i++)
			FUZZ_ASSERT(again.windows[i].max == spec.windows[i].max &&
				    again.windows[i].seconds == spec.windows[i].seconds);
	} else {
		FUZZ_ASSERT(error != NULL);
		free(error);
	}
	free(text);
	return 0;
}
