/*
 * NAME
 *	fuzz_ipaddr - libFuzzer target for address and network parsing
 * DESCRIPTION
 *	Feeds arbitrary text to ipaddr_parse, ipaddr_parse_tagged,
 *	cidr_parse and cidr_list_parse, and checks the round trips that the
 *	rest of the suite relies on: what parses prints in RFC 5952 form
 *	and parses back to the same address; a parsed network has no host
 *	bits; a list matches the networks it was built from.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "ipaddr.h"

#include "fuzz_common.h"

static void check_round_trip(const struct ipaddr *ip)
{
	char buf[IPADDR_STRLEN];
	struct ipaddr again;

	ipaddr_format(ip, buf);
	FUZZ_ASSERT(ipaddr_parse(buf, &again) == 0);
	FUZZ_ASSERT(ipaddr_equal(ip, &again));
	for (const char *p = buf; *p; p++)
		FUZZ_ASSERT(!(*p >= 'A' && *p <= 'Z'));
	FUZZ_ASSERT(ipaddr_in_prefix(ip, ip, ipaddr_bits(ip)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size, 4096);
	struct ipaddr ip;
	struct cidr cidr;
	struct cidr_list *list = NULL;
	char *error = NULL;

	if (text == NULL)
		return 0;
	if (ipaddr_parse(text, &ip) == 0) {
		FUZZ_ASSERT(ip.family != 0);
		check_round_trip(&ip);
	}
	if (ipaddr_parse_tagged(text, &ip) == 0)
		check_round_trip(&ip);
	if (cidr_parse(text, &cidr, &error) == 0) {
		struct ipaddr masked = cidr.net;
		char buf[IPADDR_STRLEN + 8];
		struct cidr again;

		ipaddr_mask(&masked, cidr.len);
		FUZZ_ASSERT(ipaddr_equal(&masked, &cidr.net));
		FUZZ_ASSERT(cidr.len <= ipaddr_bits(&cidr.net));
		cidr_format(&cidr, buf, sizeof buf);
		FUZZ_ASSERT(cidr_parse(buf, &again, &error) == 0);
		FUZZ_ASSERT(again.len == cidr.len && ipaddr_equal(&again.net, &cidr.net));
	} else {
		FUZZ_ASSERT(error != NULL);
	}
	free(error);
	error = NULL;
	if (cidr_list_parse(text, &list, &error) == 0) {
		for (size_t i = 0; i < cidr_list_count(list); i++)
			FUZZ_ASSERT(cidr_list_match(list, &cidr_list_get(list, i)->net));
		cidr_list_free(&list);
		FUZZ_ASSERT(list == NULL);
	} else {
		FUZZ_ASSERT(error != NULL);
	}
	free(error);
	free(text);
	return 0;
}
