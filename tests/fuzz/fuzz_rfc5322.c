/*
 * NAME
 *	fuzz_rfc5322 - libFuzzer target for the From: address-list parser
 * DESCRIPTION
 *	Arbitrary header values, NUL bytes included (the parser takes a
 *	length). Every address returned is already normalised (a fixed
 *	point of addr_normalize), their number is within the cap, and an
 *	error always comes with a message and an empty list.
 */
#include "addr.h"
#include "rfc5322.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfc5322_addrlist list;
	char *error = NULL;
	char again[ADDR_MAX];

	if (rfc5322_parse_address_list((const char *)data, size, &list, &error) == 0) {
		FUZZ_ASSERT(list.count > 0 && list.count <= RFC5322_MAX_ADDRESSES);
		for (size_t i = 0; i < list.count; i++) {
			FUZZ_ASSERT(addr_normalize(list.addrs[i], again, sizeof again) == 0);
			FUZZ_ASSERT(strcmp(list.addrs[i], again) == 0);
			FUZZ_ASSERT(strchr(list.addrs[i], '@') != NULL);
		}
		rfc5322_addrlist_free(&list);
		FUZZ_ASSERT(list.count == 0);
	} else {
		FUZZ_ASSERT(error != NULL);
		FUZZ_ASSERT(list.count == 0);
		free(error);
	}
	return 0;
}
