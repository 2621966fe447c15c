/* The store's Sentinel client and its honesty about failed commands, against
 * fake RESP servers on loopback (a sentinel, a stale primary, the real one):
 * a write refused with READONLY is sent again to the primary the sentinels
 * name next; a node that answers ROLE as a replica is not used; a command
 * whose connection breaks after it left is "may have run", never resent; a
 * connection the server closed while idle is replaced before the command
 * leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bot/store.h"

#define CLOSE_NOW NULL
#define MAXARGS 8

struct fake;
/* The RESP reply to argv, or CLOSE_NOW; *close_after: close once it is sent. */
typedef const char *(*answer_fn)(struct fake *f, int argc, char **argv, bool *close_after);

struct fake {
	int lfd, port;
	pthread_t thread;
	atomic_bool stop;
	answer_fn answer;
	const char *arg;		/* e.g. the port a fake sentinel names */
	atomic_int conns, commands, sets;
	atomic_int state;	/* per fake: written by a test while its thread runs */
};

static int read_command(FILE *in, int *argc, char **argv)
{
	char line[256];
	long n;

	if (!fgets(line, sizeof(line), in) || line[0] != '*')
		return -1;
	n = strtol(line + 1, NULL, 10);
	if (n < 1 || n > MAXARGS)
		return -1;
	*argc = (int)n;
	for (long i = 0; i < n; i++) {
		long len;
		if (!fgets(line, sizeof(line), in) || line[0] != '$')
			return -1;
		len = strtol(line + 1, NULL, 10);
		if (len < 0 || len > 4096)
			return -1;
		argv[i] = calloc(1, (size_t)len + 3);
		if (fread(argv[i], 1, (size_t)len + 2, in) != (size_t)len + 2)
			return -1;
		argv[i][len] = '\0';
	}
	return 0;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	while (!atomic_load(&f->stop)) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&f->conns, 1);
		FILE *in = fdopen(dup(fd), "r");
		for (;;) {
			int argc = 0;
			char *argv[MAXARGS] = { 0 };
			bool close_after = false;
			const char *reply = NULL;
			bool ok = read_command(in, &argc, argv) == 0;

			if (ok) {
				atomic_fetch_add(&f->commands, 1);
				if (strcasecmp(argv[0], "SET") == 0)
					atomic_fetch_add(&f->sets, 1);
				reply = f->answer(f, argc, argv, &close_after);
			}
			for (int i = 0; i < MAXARGS; i++)
				free(argv[i]);
			if (!ok || !reply)
				break;
			if (write(fd, reply, strlen(reply)) < 0 || close_after)
				break;
		}
		fclose(in);
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, answer_fn answer, const char *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	memset(f, 0, sizeof(*f));
	f->answer = answer;
	f->arg = arg;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	close(f->lfd);
}

static const char *bulk_port(int port)
{
	static _Thread_local char out[64];

	snprintf(out, sizeof(out), "*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%d\r\n", port >= 10000 ? 5 : 4, port);
	return out;
}

/* A sentinel: names the port in f->arg until told otherwise (state = a new port). */
static const char *sentinel_answer(struct fake *f, int argc, char **argv, bool *close_after)
{
	(void)close_after;
	if (argc == 3 && strcasecmp(argv[0], "SENTINEL") == 0 && strcmp(argv[2], "mymaster") == 0) {
		int port = f->state ? f->state : atoi(f->arg);
		f->state = atoi(f->arg + strlen(f->arg) + 1) ? atoi(f->arg + strlen(f->arg) + 1) : port;
		return bulk_port(port);
	}
	return "-ERR unknown\r\n";
}

/* A primary that was demoted after its ROLE answer: every write is READONLY. */
static const char *stale_answer(struct fake *f, int argc, char **argv, bool *close_after)
{
	(void)f, (void)argc, (void)close_after;
	if (strcasecmp(argv[0], "ROLE") == 0)
		return "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
	return "-READONLY You can't write against a read only replica.\r\n";
}

static const char *replica_answer(struct fake *f, int argc, char **argv, bool *close_after)
{
	(void)f, (void)argc, (void)close_after;
	if (strcasecmp(argv[0], "ROLE") == 0)
		return "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:0\r\n";
	return "-READONLY You can't write against a read only replica.\r\n";
}

static const char *primary_answer(struct fake *f, int argc, char **argv, bool *close_after)
{
	(void)f, (void)argc, (void)close_after;
	if (strcasecmp(argv[0], "ROLE") == 0)
		return "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
	if (strcasecmp(argv[0], "PING") == 0)
		return "+PONG\r\n";
	return "+OK\r\n";
}

/* Takes the command in full, then dies without answering. */
static const char *dying_answer(struct fake *f, int argc, char **argv, bool *close_after)
{
	(void)f, (void)argc, (void)close_after;
	if (strcasecmp(argv[0], "SET") == 0)
		return CLOSE_NOW;
	return "+PONG\r\n";
}

/* Answers, then closes the connection (an idle timeout just after). */
static const char *closing_answer(struct fake *f, int argc, char **argv, bool *close_after)
{
	(void)f, (void)argc, (void)argv;
	*close_after = true;
	return "+OK\r\n";
}

static void test_readonly_is_sent_to_the_next_primary(void **state)
{
	struct fake sen, stale, prim;
	char arg[32], url[128];

	(void)state;
	sentinel_invalidate(sentinel_generation());	/* the address is process-wide */
	fake_start(&stale, stale_answer, NULL);
	fake_start(&prim, primary_answer, NULL);
	/* "stale\0prim": names the stale one first, then the real one. */
	snprintf(arg, sizeof(arg), "%d%c%d", stale.port, '\0', prim.port);
	fake_start(&sen, sentinel_answer, arg);
	snprintf(url, sizeof(url), "redis+sentinel://127.0.0.1:%d/mymaster", sen.port);
	struct store *s = store_open(url, 1000);
	redisReply *r = store_command(s, "SET %s %s", "k", "v");

	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	assert_string_equal(r->str, "OK");
	freeReplyObject(r);
	assert_false(store_unanswered(s));
	assert_int_equal(atomic_load(&stale.sets), 1);
	assert_int_equal(atomic_load(&prim.sets), 1);
	store_close(s);
	fake_stop(&sen);
	fake_stop(&stale);
	fake_stop(&prim);
}

static void test_replica_is_not_used(void **state)
{
	struct fake sen, rep;
	char arg[32], url[128];

	(void)state;
	sentinel_invalidate(sentinel_generation());
	fake_start(&rep, replica_answer, NULL);
	snprintf(arg, sizeof(arg), "%d%c0", rep.port, '\0');
	fake_start(&sen, sentinel_answer, arg);
	snprintf(url, sizeof(url), "redis+sentinel://127.0.0.1:%d/mymaster", sen.port);
	struct store *s = store_open(url, 1000);

	assert_null(store_command(s, "SET %s %s", "k", "v"));
	assert_false(store_unanswered(s));	/* nothing was changed */
	assert_non_null(strstr(store_error(s), "not the primary"));
	assert_int_equal(atomic_load(&rep.sets), 0);
	store_close(s);
	fake_stop(&sen);
	fake_stop(&rep);
}

static void test_eof_after_the_command_left_is_unknown(void **state)
{
	struct fake dying;
	char url[128];

	(void)state;
	fake_start(&dying, dying_answer, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", dying.port);
	struct store *s = store_open(url, 1000);
	redisReply *r = store_command(s, "PING");

	assert_non_null(r);
	freeReplyObject(r);
	assert_null(store_command(s, "SET %s %s", "k", "v"));
	assert_true(store_unanswered(s));		/* it may have run */
	assert_int_equal(atomic_load(&dying.sets), 1);	/* and was not sent again */
	store_close(s);
	fake_stop(&dying);
}

static void test_closed_while_idle_is_replaced(void **state)
{
	struct fake closing;
	char url[128];

	(void)state;
	fake_start(&closing, closing_answer, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", closing.port);
	struct store *s = store_open(url, 1000);
	redisReply *r = store_command(s, "SET %s %s", "a", "1");

	assert_non_null(r);
	freeReplyObject(r);
	usleep(100000);		/* the server's close arrives */
	r = store_command(s, "SET %s %s", "b", "2");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	assert_false(store_unanswered(s));
	assert_int_equal(atomic_load(&closing.conns), 2);
	assert_int_equal(atomic_load(&closing.sets), 2);
	store_close(s);
	fake_stop(&closing);
}

/* WAIT answers one replica; with close_after set in state, every answer ends
 * its connection (so the WAIT after a write goes out on a new one). */
static const char *wait_answer(struct fake *f, int argc, char **argv, bool *close_after)
{
	(void)argc;
	*close_after = f->state != 0;
	return strcasecmp(argv[0], "WAIT") == 0 ? ":1\r\n" : "+OK\r\n";
}

static void test_wait_replicas(void **state)
{
	struct fake prim;
	char url[128];
	redisReply *r;

	(void)state;
	fake_start(&prim, wait_answer, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", prim.port);
	struct store *s = store_open(url, 1000);

	store_set_options(NULL, NULL, 0);
	assert_int_equal(store_wait_replicas(s), 0);	/* off: no round trip */
	assert_int_equal(atomic_load(&prim.commands), 0);
	store_set_options(NULL, NULL, 1);
	r = store_command(s, "SET %s %s", "k", "v");
	freeReplyObject(r);
	assert_int_equal(store_wait_replicas(s), 0);
	store_set_options(NULL, NULL, 2);
	assert_int_equal(store_wait_replicas(s), -1);	/* one of two */
	assert_non_null(strstr(store_error(s), "1 of 2"));
	/* The write's connection is gone before WAIT: it vouches for nothing. */
	store_set_options(NULL, NULL, 1);
	prim.state = 1;
	r = store_command(s, "SET %s %s", "k", "v");
	freeReplyObject(r);
	usleep(100000);
	assert_int_equal(store_wait_replicas(s), -1);
	assert_non_null(strstr(store_error(s), "connection changed"));
	store_set_options(NULL, NULL, 0);
	store_close(s);
	fake_stop(&prim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readonly_is_sent_to_the_next_primary),
		cmocka_unit_test(test_replica_is_not_used),
		cmocka_unit_test(test_eof_after_the_command_left_is_unknown),
		cmocka_unit_test(test_closed_while_idle_is_replaced),
		cmocka_unit_test(test_wait_replicas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
