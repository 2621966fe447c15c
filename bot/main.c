/* main.c - the watchkeeper daemon: command line, startup, and orderly shutdown.
 *
 * Threads: this thread becomes the libwebsockets loop; a signal thread turns
 * SIGTERM/SIGINT into a drain (http_server_stop(), outbox_drain_begin());
 * workers, the courier, the outbox senders, the engine, the heartbeat, the
 * Redis readiness monitor and (with --console) the console run beside it.
 *
 * Shutdown order, so that nothing in flight is lost or sent twice:
 *   1. the signal: /readyz and new requests answer 503, the outbox senders take
 *      no new entries (what they read but did not start goes back on the queue);
 *   2. HTTP requests in flight finish (shutdown_grace_ms);
 *   3. notification sends in flight finish and record their outcome, for up to
 *      shutdown.drain_ms (concurrently with 2, which began at the signal);
 *   4. only then courier_cancel_calls() cuts off what is left: a cut-off send
 *      is recorded with an unknown outcome and looked up before anyone sends
 *      it again; workers blocked in outbound calls are freed;
 *   5. the jobs lane (its queued GitHub syncs are dropped with a late answer),
 *      senders, engine, workers, courier; the heartbeat last, so every lease
 *      held until here stays renewed. */
#include "adapters/slack_manifest.h"
#include "adapters/slack_socket.h"
#include "adapters/teams.h"
#include "bot/config.h"
#include "bot/console.h"
#include "bot/courier.h"
#include "bot/dispatch.h"
#include "bot/engine.h"
#include "bot/heartbeat.h"
#include "bot/jobs.h"
#include "bot/outbox.h"
#include "bot/http_server.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/operator.h"
#include "bot/store.h"
#include "bot/tz.h"
#include "bot/workers.h"

#include <curl/curl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_CONFIG 2

static const char usage_text[] =
	"Usage: watchkeeper [-c FILE] [--console] [--check-config]\n"
	"       watchkeeper orgs list|show|suspend|activate [ID] [-c FILE]\n"
	"       watchkeeper audit verify|export --org ID [-c FILE]\n"
	"       watchkeeper secrets rotate [-c FILE]\n"
	"       watchkeeper backup FILE | restore FILE [--force] [--skip-overdue] [-c FILE]\n"
	"       watchkeeper manifest slack [--socket-mode] [-c FILE]\n"
	"       watchkeeper --version | --help\n"
	"\n"
	"An on-call chat-ops bot for Slack and Microsoft Teams (and a console to try it locally).\n"
	"With WK_SLACK_APP_TOKEN (xapp-...) it dials Slack over Socket Mode: no public URL needed.\n"
	"\n"
	"  -c, --config FILE   JSON config (see config/README.md); WK_* environment\n"
	"                      variables override it\n"
	"      --console       also read commands on stdin as a local user\n"
	"      --check-config  validate the configuration, print it (secrets hidden), exit\n"
	"      --commands      print every command and subcommand with its role, as JSON\n"
	"  manifest slack      print the Slack app manifest (YAML) for this configuration:\n"
	"                      public_url and the slash command names (slack.commands);\n"
	"                      with --socket-mode for Socket Mode (no request URLs)\n"
	"      --version       print the version\n"
	"  -h, --help          this text\n"
	"\n"
	"orgs, audit, secrets, backup and restore work on the daemon's Redis: set\n"
	"WK_REDIS_URL as for the daemon (`make run` starts its own:\n"
	"WK_REDIS_URL=$(scripts/redis.sh url build/run)).\n";

static sigset_t stop_signals;
static const struct config *console_cfg;
static bool socket_mode_failed;	/* set on the loop thread before it stops */

/* SIGTERM, SIGINT and the console's quit: new requests get 503, notifications
 * in flight finish, then everything stops (the order is main's). */
static void daemon_stop(void)
{
	outbox_drain_begin();
	http_server_stop();
}

static void *signal_main(void *arg)
{
	siginfo_t info;
	int sig;

	(void)arg;
	for (;;) {
		if ((sig = sigwaitinfo(&stop_signals, &info)) < 0)
			continue;
		if (sig == SIGUSR1 && info.si_pid == getpid())	/* main's "we are done" */
			return NULL;
		if (sig == SIGUSR1)
			continue;
		/* Who sent it: a stop nobody asked for is otherwise untraceable. */
		log_info("daemon.signal", "signal=%s from_pid=%ld", sig == SIGTERM ? "TERM" : "INT",
			 (long)info.si_pid);
		daemon_stop();
	}
}

/* Slack Socket Mode and the console only open once the port is ours: a second
 * daemon on the same address must fail before it takes a single command. */
static void start_socket_mode(void)
{
	if (slack_socket_start(console_cfg) < 0) {
		log_error("daemon.start", "error=\"cannot start Slack Socket Mode\"");
		socket_mode_failed = true;
		daemon_stop();
	}
}

static void start_console(void)
{
	start_socket_mode();
	if (console_start(console_cfg, daemon_stop) < 0) {
		log_error("daemon.start", "error=\"cannot start the console\"");
		daemon_stop();
	}
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool console = false, check = false, manifest = false, socket_mode = false;
	struct config cfg;
	struct store_url url;
	char err[512];
	pthread_t sig_thread;
	int rc = 0;

	/* `watchkeeper orgs ...` and `watchkeeper audit ...` are operator tools, not the daemon. */
	if (argc > 1 && operator_is_command(argv[1]))
		return operator_main(argc, argv);

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			path = argv[++i];
		} else if (i == 1 && i + 1 < argc && strcmp(argv[i], "manifest") == 0 &&
			   strcmp(argv[i + 1], "slack") == 0) {
			manifest = true;	/* generated, so it can't drift from the table */
			i++;
		} else if (manifest && strcmp(argv[i], "--socket-mode") == 0) {
			socket_mode = true;
		} else if (strcmp(argv[i], "--console") == 0) {
			console = true;
		} else if (strcmp(argv[i], "--check-config") == 0) {
			check = true;
		} else if (strcmp(argv[i], "--commands") == 0) {
			dispatch_dump_json(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("watchkeeper %s\n", WK_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			fprintf(stderr, "watchkeeper: %s needs a file name, e.g. %s /etc/watchkeeper/watchkeeper.json\n",
				argv[i], argv[i]);
			return EXIT_CONFIG;
		} else {
			fprintf(stderr, "watchkeeper: unknown argument \"%s\"\n\n%s", argv[i], usage_text);
			return EXIT_CONFIG;
		}
	}

	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "watchkeeper: %s\n", err);
		tz_shutdown();
		return EXIT_CONFIG;
	}
	store_set_options(cfg.redis_password, cfg.redis_sentinel_password, cfg.redis_wait_replicas);
	if (store_url_parse(cfg.redis_url, &url, err, sizeof(err)) < 0) {
		fprintf(stderr, "watchkeeper: config key \"redis.url\" / WK_REDIS_URL: %s\n", err);
		config_free(&cfg);
		tz_shutdown();
		return EXIT_CONFIG;
	}
	if (manifest) {
		slack_manifest_write(&cfg, socket_mode, stdout);
		config_free(&cfg);
		tz_shutdown();
		return 0;
	}
	if (check) {
		printf("configuration OK\n");
		config_describe(&cfg, stdout);
		config_free(&cfg);
		tz_shutdown();
		return 0;
	}
	log_set_level((enum log_level)log_level_parse(cfg.log_level));

	/* Every thread created from here on inherits the blocked set. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_create(&sig_thread, NULL, signal_main, NULL);

	/* Every request allocates and frees a few KB on the loop (libwebsockets'
	 * header table) and the workers; with glibc's 128 KB default the freed
	 * top of the heap was handed back (brk, a TLB flush on every CPU) and
	 * taken again, thousands of times a second under load. A few MB kept
	 * instead: the heap stays about its working size (make bench's RSS). */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!cfg.slack_signing_secret[0] && !cfg.slack_app_token[0])
		log_warn("slack.disabled", "reason=\"slack.signing_secret (WK_SLACK_SIGNING_SECRET) is empty; /slack/* answers 401\"");
	log_info("daemon.start", "version=%s workers=%lld redis=%s", WK_VERSION, (long long)cfg.workers,
		 url.path[0] ? "unix" : "tcp");
	console_cfg = &cfg;
	if (console)
		outbox_set_preview(console_show);	/* before the senders start */
	if (store_monitor_start(cfg.redis_url, cfg.redis_timeout_ms, 500) < 0 ||
	    workers_start(&cfg) < 0 || jobs_start() < 0 || courier_start(&cfg) < 0 ||
	    engine_start(&cfg) < 0 || outbox_start(&cfg) < 0 || heartbeat_start(&cfg) < 0 ||
	    teams_start(&cfg) < 0) {
		log_error("daemon.start", "error=\"cannot start threads\"");
		rc = 1;
	} else if (http_server_run(&cfg, console ? start_console : start_socket_mode) < 0 || socket_mode_failed) {
		rc = 1;
	}

	slack_socket_stop();	/* before the workers: commands still running answer at response_url */
	console_stop();
	outbox_drain(cfg.shutdown_drain_ms);	/* sends in flight finish and are recorded */
	courier_cancel_calls();	/* then cut off what is left; frees blocked workers */
	jobs_stop();		/* a GitHub sync cut off above hands off to the workers */
	outbox_stop();
	engine_stop();
	workers_stop();
	heartbeat_stop();
	http_server_cleanup();
	courier_stop(cfg.shutdown_grace_ms < 5000 ? cfg.shutdown_grace_ms : 5000);
	teams_stop();
	store_monitor_stop();
	pthread_kill(sig_thread, SIGUSR1);
	pthread_join(sig_thread, NULL);
	log_info("daemon.stop", "status=%d", rc);
	metrics_shutdown();
	tz_shutdown();
	config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
