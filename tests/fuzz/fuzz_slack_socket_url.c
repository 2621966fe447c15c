/* fuzz_slack_socket_url.c - libFuzzer target for the Socket Mode URL checks
 * (adapters/slack_socket.h): the URL apps.connections.open hands out, and the
 * loopback test on slack.api_url. Whatever the input: no crash, no read past
 * it, and an accepted URL has a host, a port in range and a path that starts
 * with '/' and carries no space, control byte or fragment (it goes into a
 * request line). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/slack_socket.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_slack_socket_url: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct slack_socket_url u;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (slack_socket_url_parse(s, &u) == 0) {
		CHECK(u.host[0] != '\0');
		CHECK(u.port >= 1 && u.port <= 65535);
		CHECK(u.path[0] == '/');
		for (const char *c = u.path; *c; c++)
			CHECK((unsigned char)*c > ' ' && *c != 0x7f && *c != '#');
		CHECK(strncmp(s, u.tls ? "wss://" : "ws://", u.tls ? 6 : 5) == 0);
	}
	(void)slack_socket_url_loopback(s);
	free(s);
	return 0;
}
