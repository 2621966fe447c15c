/* fuzz_sentinel.c - libFuzzer target for what the Sentinel client reads
 * (bot/store_sentinel.h): the redis+sentinel:// URL and the events the
 * sentinels publish (read off the network). Input: "URL\nCHANNEL\nPAYLOAD".
 * Whatever the input: no crash, no read past it; an accepted URL has 1..8
 * sentinels with hosts and ports in range and a master name; an event leaves
 * the cached primary (if any) a host with no space and a port in range. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/store.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_sentinel: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *channel, *payload, err[160], host[256];
	struct store_url u;
	int port = 0;
	uint64_t gen;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	channel = strchr(s, '\n');
	if (channel)
		*channel++ = '\0';
	payload = channel ? strchr(channel, '\n') : NULL;
	if (payload)
		*payload++ = '\0';
	if (store_url_parse(s, &u, err, sizeof(err)) == 0 && u.sentinel.n) {
		CHECK(u.sentinel.n <= SENTINEL_MAX);
		CHECK(u.sentinel.master[0] != '\0');
		for (size_t i = 0; i < u.sentinel.n; i++) {
			CHECK(u.sentinel.addr[i].host[0] != '\0');
			CHECK(u.sentinel.addr[i].port >= 1 && u.sentinel.addr[i].port <= 65535);
		}
	}
	if (channel && payload) {
		sentinel_event("mymaster", channel, payload);
		(void)sentinel_switching();
		/* Port 1 answers nothing: only a cached address comes back. */
		struct sentinel_url su = { .n = 1, .master = "mymaster", .addr = { { "127.0.0.1", 1 } } };
		if (sentinel_primary(&su, 10, host, sizeof(host), &port, &gen, err, sizeof(err)) == 0) {
			CHECK(!strchr(host, ' ') && host[0]);
			CHECK(port >= 1 && port <= 65535);
		}
	}
	free(s);
	return 0;
}
