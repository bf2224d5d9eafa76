/*
 * NAME
 *	fuzz_common 3h
 * SUMMARY
 *	small helpers shared by the libFuzzer targets
 * DESCRIPTION
 *	FUZZ_ASSERT aborts (a finding) when a property the suite relies on
 *	does not hold; assert() would vanish under NDEBUG.
 */
#ifndef AUTHRELAY_FUZZ_COMMON_H
#define AUTHRELAY_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)                                                           \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns a NUL-terminated copy of data, or NULL when it is longer than
   max or holds a NUL (the C string APIs under test never see one). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size, size_t max)
{
	char *s;

	if (size > max || memchr(data, 0, size) != NULL)
		return NULL;
	s = malloc(size + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

#endif
