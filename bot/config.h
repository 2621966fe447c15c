/* config.h - the daemon's configuration: a JSON file, then the environment on top.
 *
 * Every option is one row of the table in config.c (JSON path, environment
 * variable, type, default, bounds, validator), the way redis.conf options are
 * loaded through static_configs[]. config_load() fills a struct config; the
 * struct is read-only after startup and shared by all threads.
 *
 * Errors: config_load() returns -1 and writes one sentence into err naming the
 * exact key (JSON path and, where it applies, the environment variable) and what
 * was expected. Callers exit with status 2. */
#ifndef WK_CONFIG_H
#define WK_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bot/rotation.h"

#define CONFIG_SLACK_COMMANDS 8	/* registered slash commands at most */
#define CONFIG_SLACK_NAME_SIZE 32	/* Slack: '/' and 1..31 more */

struct config {
	char *listen_host;
	int listen_port;
	char *public_url;
	char *redis_url;
	int64_t redis_timeout_ms;
	char *redis_password;		/* secret: Redis's AUTH when the URL carries none */
	char *redis_sentinel_password;	/* secret: the sentinels', redis+sentinel:// only */
	int64_t redis_wait_replicas;	/* WAIT for this many replicas after claims and sent marks */
	int64_t workers;
	int64_t workers_max_per_org;	/* 0 = workers / 2, at least 1 */
	int64_t max_body_bytes;
	int64_t http_request_timeout_ms;	/* whole request, headers and body */
	int64_t http_max_conns;		/* 0 = derived from RLIMIT_NOFILE (http_server.c) */
	int64_t http_max_conns_per_addr;	/* 0 = off */
	int64_t shutdown_grace_ms;
	int64_t shutdown_drain_ms;	/* outbox sends in flight may finish this long */
	char *log_level;

	char *slack_signing_secret;	/* secret: never logged */
	char *slack_bot_token;		/* secret: never logged */
	char *slack_api_url;
	int64_t slack_ack_after_ms;
	char *slack_app_token;		/* secret: xapp-..., Socket Mode (adapters/slack_socket.c) */
	int64_t slack_socket_connections;
	char *slack_client_id;		/* with slack_client_secret: OAuth installs (adapters/slack_oauth.c) */
	char *slack_client_secret;	/* secret */
	char *slack_oauth_url;
	/* The slash commands the Slack app registers (slack.commands): the first
	 * is the main command (/oncall, which reaches every other command as a
	 * subcommand); each further NAME=COMMAND registers another command under
	 * its own name. "oncall" or "oncall-prod,incident-prod=incident". */
	char *slack_commands;
	struct config_slack_command {
		char name[CONFIG_SLACK_NAME_SIZE];	/* without the '/' */
		char command[CONFIG_SLACK_NAME_SIZE];	/* the table's name, e.g. "oncall" */
	} slack_command[CONFIG_SLACK_COMMANDS];	/* derived, validated */
	size_t slack_ncommands;

	/* Microsoft Teams (adapters/teams*.c). No app id: /teams/messages answers 404. */
	char *teams_app_id;		/* the bot's Microsoft App ID (a GUID) */
	char *teams_app_password;	/* secret: the client secret, never logged */
	char *teams_tenant_id;		/* the bot's home tenant; "botframework.com": legacy multi-tenant */
	char *teams_openid_url;		/* OpenID metadata of the Bot Framework's token issuer */
	char *teams_token_url;		/* client-credentials token endpoint; "" = derived from the tenant */
	char *teams_issuer;		/* the iss inbound tokens must carry */
	int64_t teams_max_per_second;	/* notifications a second per tenant, all instances */

	char *rotation_timezone;
	char *rotation_handoff;		/* "monday 09:00" */
	char *rotation_start;		/* "2026-01-05" (local date of the first shift) */
	struct rotation_spec rotation;	/* derived, validated */

	char *console_org;
	char *console_user;

	char *smtp_url;			/* smtp:// (STARTTLS required) or smtps://; empty = no email */
	char *smtp_user;
	char *smtp_password;		/* secret */
	char *smtp_from;		/* "Watchkeeper <oncall@example.com>" */

	int64_t swap_expire_s;		/* an unanswered swap request expires after this */
	int64_t notify_senders;		/* outbox sender threads */
	int64_t notify_verify_max_wait_s;	/* look for an unknown send this long, then resend */
	int64_t notify_sms_gap_s;	/* per person: at least this long between SMS */
	int64_t notify_sms_per_hour;	/* per person: at most this many SMS an hour, 0 = no cap */
	int64_t notify_email_gap_s;
	int64_t notify_email_per_hour;
	int64_t twilio_timeout_ms;	/* one SMS request, connection included */
	int64_t twilio_max_in_flight;	/* SMS requests at once, per instance */
	int64_t twilio_max_per_second;	/* SMS sends a second across instances, 0 = no limit */

	char *github_token;		/* secret */
	char *github_api_url;

	char *twilio_account_sid;	/* AC..., empty = no SMS */
	char *twilio_auth_token;	/* secret: never logged */
	char *twilio_from;		/* E.164 sender, or empty to use the Messaging Service */
	char *twilio_messaging_service_sid;	/* MG..., or empty */
	char *twilio_api_url;

	char *incidents_step_delays_s;	/* "0,300,600": primary, 1st, 2nd backup (escalation.h) */
	int64_t incidents_repeats;	/* rounds of the default policy after the first */
	int64_t incidents_max_new_per_minute;	/* per alert integration; more join one storm incident */
	char *incidents_notify_user_ids;	/* "slack:T1:U1,...": replaces /delegate mode in those orgs */

	char *secret_key;		/* secret: base64 of 32 bytes, "" = none (bot/secrets.h) */
	char *secret_key_previous;	/* secret: the key before a rotation */
};

/* Load path (may be NULL: defaults + environment only). */
int config_load(struct config *cfg, const char *path, char *err, size_t errsz);
void config_free(struct config *cfg);

/* Write every key, its source and its value (secrets shown as "(set)") for
 * --check-config. */
void config_describe(const struct config *cfg, FILE *out);

#endif
