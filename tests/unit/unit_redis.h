/* unit_redis.h - a private redis-server (scripts/redis.sh) for the unit tests
 * that need a real one: cmocka group setup and teardown. Run the test binaries
 * from the repository root (scripts/test.sh does). One per test binary. */
#ifndef WK_UNIT_REDIS_H
#define WK_UNIT_REDIS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char unit_redis_dir[] = "/tmp/wk-unit-redis-XXXXXX";
static char unit_redis_url[256];	/* unix:///tmp/wk-unit-redis-.../redis.sock once started */

static int unit_redis_start(void **state)
{
	char cmd[512];
	FILE *p;

	(void)state;
	if (!mkdtemp(unit_redis_dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "scripts/redis.sh start %s", unit_redis_dir);
	p = popen(cmd, "r");
	if (!p || !fgets(unit_redis_url, sizeof(unit_redis_url), p)) {
		if (p)
			pclose(p);
		return -1;
	}
	unit_redis_url[strcspn(unit_redis_url, "\n")] = '\0';
	return pclose(p) == 0 ? 0 : -1;
}

static int unit_redis_stop(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "scripts/redis.sh stop %s >/dev/null 2>&1; rm -rf %s", unit_redis_dir,
		 unit_redis_dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
