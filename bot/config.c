/* config.c - see config.h */
#include "bot/config.h"
#include "bot/secrets.h"
#include "adapters/slack_manifest.h"
#include "bot/dispatch.h"
#include "bot/log.h"
#include "bot/store.h"
#include "bot/tz.h"
#include "bot/util.h"
#include "bot/when.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum config_type { CFG_STRING, CFG_INT };
#define CFG_SECRET 1u

struct config_key {
	const char *path;	/* JSON path, dotted */
	const char *env;	/* environment variable that wins over the file */
	enum config_type type;
	size_t offset;
	const char *def;	/* default, as text */
	int64_t min, max;	/* CFG_INT bounds */
	unsigned flags;
	const char *help;	/* what is expected, for error messages */
};

#define STR(field) CFG_STRING, offsetof(struct config, field)
#define INT(field) CFG_INT, offsetof(struct config, field)

static const struct config_key config_keys[] = {
	{ "listen", "WK_LISTEN", STR(listen_host), "127.0.0.1:8080", 0, 0, 0,
	  "host:port, e.g. 127.0.0.1:8080" },
	{ "public_url", "WK_PUBLIC_URL", STR(public_url), "http://localhost:8080", 0, 0, 0,
	  "the http(s):// URL Slack and browsers reach this daemon at" },
	{ "redis.url", "WK_REDIS_URL", STR(redis_url), "redis://127.0.0.1:6379/0", 0, 0, CFG_SECRET,
	  "redis://[user:pass@]host:port/db, unix:///path/to/redis.sock or "
	  "redis+sentinel://[:sentinelpass@]host:26379,host:26379/NAME[/db]" },
	{ "redis.timeout_ms", "WK_REDIS_TIMEOUT_MS", INT(redis_timeout_ms), "1000", 10, 60000, 0,
	  "milliseconds, 10..60000" },
	{ "redis.password", "WK_REDIS_PASSWORD", STR(redis_password), "", 0, 0, CFG_SECRET,
	  "Redis's password (AUTH), for a URL that carries none (a redis+sentinel:// URL never does)" },
	{ "redis.sentinel_password", "WK_REDIS_SENTINEL_PASSWORD", STR(redis_sentinel_password), "", 0, 0,
	  CFG_SECRET, "the sentinels' password, for a redis+sentinel:// URL that carries none" },
	{ "redis.wait_replicas", "WK_REDIS_WAIT_REPLICAS", INT(redis_wait_replicas), "0", 0, 16, 0,
	  "replicas, 0..16, that must acknowledge each notification claim, sent mark and timer claim "
	  "(Redis WAIT) before it is acted on; 0 = don't wait" },
	{ "workers", "WK_WORKERS", INT(workers), "4", 1, 64, 0, "a number of threads, 1..64" },
	{ "workers_max_per_org", "WK_WORKERS_MAX_PER_ORG", INT(workers_max_per_org), "0", 0, 64, 0,
	  "jobs one org (or feed token, or SMS sender) may run at once, 0..64, at most workers; 0 = half the workers" },
	{ "max_body_bytes", "WK_MAX_BODY_BYTES", INT(max_body_bytes), "65536", 1024, 16777216, 0,
	  "bytes, 1024..16777216" },
	{ "http.request_timeout_ms", "WK_HTTP_REQUEST_TIMEOUT_MS", INT(http_request_timeout_ms), "10000",
	  100, 600000, 0,
	  "milliseconds to read a whole request (headers and body), 100..600000; slower gets 408 or is closed" },
	{ "http.max_conns", "WK_HTTP_MAX_CONNS", INT(http_max_conns), "0", 0, 1000000, 0,
	  "HTTP connections at once, 0..1000000; 0 = the descriptor limit (RLIMIT_NOFILE) minus a reserve" },
	{ "http.max_conns_per_addr", "WK_HTTP_MAX_CONNS_PER_ADDR", INT(http_max_conns_per_addr), "0", 0,
	  1000000, 0, "HTTP connections at once from one address, 0..1000000; 0 = no per-address cap" },
	{ "shutdown_grace_ms", "WK_SHUTDOWN_GRACE_MS", INT(shutdown_grace_ms), "10000", 0, 600000, 0,
	  "milliseconds to finish in-flight requests on SIGTERM, 0..600000" },
	{ "shutdown.drain_ms", "WK_SHUTDOWN_DRAIN_MS", INT(shutdown_drain_ms), "10000", 0, 600000, 0,
	  "milliseconds notification sends in flight may take to finish on SIGTERM before they are "
	  "cut off (their outcome then counts as unknown and is checked), 0..600000" },
	{ "log_level", "WK_LOG_LEVEL", STR(log_level), "info", 0, 0, 0,
	  "one of debug, info, warn, error" },
	{ "slack.signing_secret", "WK_SLACK_SIGNING_SECRET", STR(slack_signing_secret), "", 0, 0,
	  CFG_SECRET, "the Signing Secret from the Slack app's Basic Information page" },
	{ "slack.bot_token", "WK_SLACK_BOT_TOKEN", STR(slack_bot_token), "", 0, 0, CFG_SECRET,
	  "a bot token starting with xoxb-" },
	{ "slack.api_url", "WK_SLACK_API_URL", STR(slack_api_url), "https://slack.com/api", 0, 0, 0,
	  "the Slack Web API base URL (http:// or https://)" },
	{ "slack.ack_after_ms", "WK_SLACK_ACK_AFTER_MS", INT(slack_ack_after_ms), "2000", 100, 2800, 0,
	  "milliseconds before a slow command is acknowledged, 100..2800 (Slack waits 3000)" },
	{ "slack.commands", "WK_SLACK_COMMANDS", STR(slack_commands), "oncall", 0, 0, 0,
	  "slash command names, comma-separated: the main command first, then NAME=COMMAND for a "
	  "command with a name of its own, e.g. \"oncall-prod\" or \"oncall-prod,invite-prod=invite\"" },
	{ "slack.app_token", "WK_SLACK_APP_TOKEN", STR(slack_app_token), "", 0, 0, CFG_SECRET,
	  "an app-level token starting with xapp- (scope connections:write): turns Socket Mode on, "
	  "so the daemon dials out to Slack and needs no public URL" },
	{ "slack.socket_connections", "WK_SLACK_SOCKET_CONNECTIONS", INT(slack_socket_connections), "1", 1, 10, 0,
	  "Socket Mode connections this instance keeps open, 1..10; Slack allows 10 per app across "
	  "all instances, so instances x this must stay at most 10" },
	{ "slack.client_id", "WK_SLACK_CLIENT_ID", STR(slack_client_id), "", 0, 0, 0,
	  "the app's Client ID (Basic Information): with slack.client_secret, turns on installing "
	  "into many workspaces at /slack/install" },
	{ "slack.client_secret", "WK_SLACK_CLIENT_SECRET", STR(slack_client_secret), "", 0, 0, CFG_SECRET,
	  "the app's Client Secret (Basic Information), for oauth.v2.access" },
	{ "slack.oauth_url", "WK_SLACK_OAUTH_URL", STR(slack_oauth_url), "https://slack.com/oauth/v2/authorize", 0, 0, 0,
	  "where /slack/install sends the browser (Slack's authorize page; http(s)://)" },
	{ "teams.app_id", "WK_TEAMS_APP_ID", STR(teams_app_id), "", 0, 0, 0,
	  "the bot's Microsoft App ID (a GUID) from its Azure Bot resource; empty turns Teams off" },
	{ "teams.app_password", "WK_TEAMS_APP_PASSWORD", STR(teams_app_password), "", 0, 0, CFG_SECRET,
	  "the client secret of the bot's app registration" },
	{ "teams.tenant_id", "WK_TEAMS_TENANT_ID", STR(teams_tenant_id), "", 0, 0, 0,
	  "the bot's home tenant id (a GUID; a single-tenant bot serves only it), or \"botframework.com\" "
	  "for a legacy multi-tenant bot" },
	{ "teams.openid_url", "WK_TEAMS_OPENID_URL", STR(teams_openid_url),
	  "https://login.botframework.com/v1/.well-known/openidconfiguration", 0, 0, 0,
	  "the OpenID metadata URL of the Bot Framework's token issuer (http:// or https://)" },
	{ "teams.token_url", "WK_TEAMS_TOKEN_URL", STR(teams_token_url), "", 0, 0, 0,
	  "the OAuth token endpoint for the bot's own tokens; empty = "
	  "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token" },
	{ "teams.max_per_second", "WK_TEAMS_MAX_PER_SECOND", INT(teams_max_per_second), "25", 1, 1000, 0,
	  "notifications (pages, notices, cards) a second into one Teams tenant across all instances, 1..1000; "
	  "Teams allows a bot 30 requests a second per tenant, answers to commands included" },
	{ "teams.issuer", "WK_TEAMS_ISSUER", STR(teams_issuer), "https://api.botframework.com", 0, 0, 0,
	  "the issuer inbound Bot Framework tokens must name" },
	{ "rotation.timezone", "WK_ROTATION_TIMEZONE", STR(rotation_timezone), "UTC", 0, 0, 0,
	  "an IANA time zone such as Europe/Berlin" },
	{ "rotation.handoff", "WK_ROTATION_HANDOFF", STR(rotation_handoff), "monday 09:00", 0, 0, 0,
	  "a weekday and a 24-hour time, e.g. \"monday 09:00\"" },
	{ "rotation.start", "WK_ROTATION_START", STR(rotation_start), "2026-01-05", 0, 0, 0,
	  "a date YYYY-MM-DD; the first shift starts on the first handoff day on or after it" },
	{ "console.org", "WK_CONSOLE_ORG", STR(console_org), "local", 0, 0, 0,
	  "the console's org name, [A-Za-z0-9_-]{1,32}" },
	{ "console.user", "WK_CONSOLE_USER", STR(console_user), "you", 0, 0, 0,
	  "the console user's name, [A-Za-z0-9._-]{1,32}" },
	{ "smtp.url", "WK_SMTP_URL", STR(smtp_url), "", 0, 0, 0,
	  "smtp://host:587 (STARTTLS required) or smtps://host:465; empty disables email" },
	{ "smtp.user", "WK_SMTP_USER", STR(smtp_user), "", 0, 0, 0, "the SMTP login name" },
	{ "smtp.password", "WK_SMTP_PASSWORD", STR(smtp_password), "", 0, 0, CFG_SECRET,
	  "the SMTP password" },
	{ "smtp.from", "WK_SMTP_FROM", STR(smtp_from), "", 0, 0, 0,
	  "the sender, e.g. \"Watchkeeper <oncall@example.com>\"" },
	{ "swap.expire_s", "WK_SWAP_EXPIRE_S", INT(swap_expire_s), "172800", 1, 2592000, 0,
	  "seconds until an unanswered swap request expires, 1..2592000 (default 48 h)" },
	{ "notify.senders", "WK_NOTIFY_SENDERS", INT(notify_senders), "4", 1, 16, 0,
	  "threads sending notifications, 1..16" },
	{ "notify.verify_max_wait_s", "WK_NOTIFY_VERIFY_MAX_WAIT_S", INT(notify_verify_max_wait_s), "30", 0,
	  3600, 0, "seconds to keep trying to check whether a message with an unknown outcome arrived "
	  "before sending it again anyway, 0..3600" },
	{ "notify.sms_min_gap_s", "WK_NOTIFY_SMS_MIN_GAP_S", INT(notify_sms_gap_s), "10", 0, 3600, 0,
	  "seconds between two SMS to one person; what comes sooner waits and is bundled, 0..3600" },
	{ "notify.sms_per_hour", "WK_NOTIFY_SMS_PER_HOUR", INT(notify_sms_per_hour), "20", 0, 1000, 0,
	  "most SMS to one person in any hour (more wait, bundled), 0 = no cap" },
	{ "notify.email_min_gap_s", "WK_NOTIFY_EMAIL_MIN_GAP_S", INT(notify_email_gap_s), "0", 0, 3600, 0,
	  "seconds between two emails to one person, 0..3600" },
	{ "notify.email_per_hour", "WK_NOTIFY_EMAIL_PER_HOUR", INT(notify_email_per_hour), "60", 0, 1000,
	  0, "most emails to one person in any hour, 0 = no cap" },
	{ "github.token", "WK_GITHUB_TOKEN", STR(github_token), "", 0, 0, CFG_SECRET,
	  "a GitHub token that can read the org's members (read:org)" },
	{ "github.api_url", "WK_GITHUB_API_URL", STR(github_api_url), "https://api.github.com", 0, 0, 0,
	  "the GitHub REST API base URL (http:// or https://)" },
	{ "twilio.account_sid", "WK_TWILIO_ACCOUNT_SID", STR(twilio_account_sid), "", 0, 0, 0,
	  "the Twilio Account SID, AC followed by 32 hex digits" },
	{ "twilio.auth_token", "WK_TWILIO_AUTH_TOKEN", STR(twilio_auth_token), "", 0, 0, CFG_SECRET,
	  "the Twilio Auth Token (signs webhooks and authenticates sends)" },
	{ "twilio.from", "WK_TWILIO_FROM", STR(twilio_from), "", 0, 0, 0,
	  "the sending number in E.164 form, e.g. +15005550006" },
	{ "twilio.messaging_service_sid", "WK_TWILIO_MESSAGING_SERVICE_SID",
	  STR(twilio_messaging_service_sid), "", 0, 0, 0,
	  "a Messaging Service SID, MG followed by 32 hex digits" },
	{ "twilio.timeout_ms", "WK_TWILIO_TIMEOUT_MS", INT(twilio_timeout_ms), "15000", 500, 60000, 0,
	  "how long one SMS request may take before it counts as failed and is retried, 500..60000" },
	{ "twilio.max_in_flight", "WK_TWILIO_MAX_IN_FLIGHT", INT(twilio_max_in_flight), "8", 1, 16, 0,
	  "SMS requests to Twilio at once from one instance, 1..16" },
	{ "twilio.max_per_second", "WK_TWILIO_MAX_PER_SECOND", INT(twilio_max_per_second), "0", 0, 10000, 0,
	  "SMS sends a second across all instances (your Twilio sender's rate), 0 = no limit" },
	{ "twilio.api_url", "WK_TWILIO_API_URL", STR(twilio_api_url), "https://api.twilio.com", 0, 0, 0,
	  "the Twilio REST API base URL (http:// or https://)" },
	{ "incidents.step_delays_s", "WK_INCIDENTS_STEP_DELAYS_S", STR(incidents_step_delays_s), "0,300,600", 0,
	  0, 0, "the default escalation: seconds after an incident opens that its primary, 1st backup and 2nd "
	  "backup are paged, 1 to 3 rising numbers from 0..86400, e.g. 0,300,600" },
	{ "incidents.repeats", "WK_INCIDENTS_REPEATS", INT(incidents_repeats), "0", 0, 10, 0,
	  "how many more times the default escalation runs when nobody acknowledges, 0..10" },
	{ "incidents.max_new_per_minute", "WK_INCIDENTS_MAX_NEW_PER_MINUTE", INT(incidents_max_new_per_minute), "20",
	  1, 10000, 0, "new incidents one alert integration may open a minute, 1..10000; further alerts join "
	  "one \"alert storm on <service>\" incident" },
	{ "incidents.notify_user_ids", "WK_INCIDENT_NOTIFY_USER_IDS", STR(incidents_notify_user_ids), "", 0, 0, 0,
	  "for operators: org-qualified member ids (slack:T0123:U0456,...) that alone may receive incidents "
	  "through broad targets in the orgs they name, instead of those orgs' /delegate mode" },
	{ "secrets.key", "WK_SECRET_KEY", STR(secret_key), "", 0, 0, CFG_SECRET,
	  "32 random bytes in base64 (`openssl rand -base64 32`) that seal third-party secrets in Redis" },
	{ "secrets.key_previous", "WK_SECRET_KEY_PREVIOUS", STR(secret_key_previous), "", 0, 0, CFG_SECRET,
	  "the secrets.key before a rotation, still accepted for opening" },
};

static char **key_str(struct config *cfg, const struct config_key *k)
{
	return (char **)((char *)cfg + k->offset);
}

static int64_t *key_int(struct config *cfg, const struct config_key *k)
{
	return (int64_t *)((char *)cfg + k->offset);
}

static void key_name(const struct config_key *k, char *out, size_t size, int from_env)
{
	if (from_env)
		snprintf(out, size, "%s (environment)", k->env);
	else
		snprintf(out, size, "\"%s\"", k->path);
}

/* Find a dotted path in the JSON tree; NULL when absent. */
static json_t *json_path(json_t *root, const char *path)
{
	char part[64];
	const char *p = path;

	while (root && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		root = json_is_object(root) ? json_object_get(root, part) : NULL;
		p += n + (dot ? 1 : 0);
	}
	return root;
}

static int set_value(struct config *cfg, const struct config_key *k, const char *text,
		     int from_env, char *err, size_t errsz)
{
	char name[96];

	key_name(k, name, sizeof(name), from_env);
	if (k->type == CFG_STRING) {
		free(*key_str(cfg, k));
		*key_str(cfg, k) = xstrdup(text);
		return 0;
	}
	if (!wk_parse_i64(text, k->min, k->max, key_int(cfg, k))) {
		snprintf(err, errsz, "config key %s: expected %s", name, k->help);
		return -1;
	}
	return 0;
}

static int load_json_value(struct config *cfg, const struct config_key *k, json_t *v,
			   char *err, size_t errsz)
{
	char num[32];

	if (k->type == CFG_STRING) {
		if (!json_is_string(v)) {
			snprintf(err, errsz, "config key \"%s\": expected a string (%s)", k->path, k->help);
			return -1;
		}
		return set_value(cfg, k, json_string_value(v), 0, err, errsz);
	}
	if (!json_is_integer(v)) {
		snprintf(err, errsz, "config key \"%s\": expected a whole number (%s)", k->path, k->help);
		return -1;
	}
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return set_value(cfg, k, num, 0, err, errsz);
}

/* Reject keys we don't know: a typo in a config file must not be silently ignored. */
static int check_unknown(json_t *obj, const char *prefix, char *err, size_t errsz)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char path[128];
		int known = 0;

		snprintf(path, sizeof(path), "%s%s", prefix, key);
		for (size_t i = 0; i < ARRAY_LEN(config_keys); i++) {
			size_t n = strlen(path);
			if (strcmp(config_keys[i].path, path) == 0 ||
			    (json_is_object(v) && strncmp(config_keys[i].path, path, n) == 0 &&
			     config_keys[i].path[n] == '.'))
				known = 1;
		}
		if (key[0] == '_')	/* "_comment" style keys are allowed */
			continue;
		if (!known) {
			snprintf(err, errsz, "config key \"%s\" is not a known option (see config/README.md)", path);
			return -1;
		}
		if (json_is_object(v)) {
			char sub[130];
			snprintf(sub, sizeof(sub), "%s.", path);
			if (check_unknown(v, sub, err, errsz) < 0)
				return -1;
		}
	}
	return 0;
}

/* The name a user should look for: the variable when the environment set it. */
static const char *key_label(const int *from_env, const char *path, char *out, size_t size)
{
	for (size_t i = 0; i < ARRAY_LEN(config_keys); i++)
		if (strcmp(config_keys[i].path, path) == 0) {
			key_name(&config_keys[i], out, size, from_env[i]);
			return out;
		}
	snprintf(out, size, "\"%s\"", path);
	return out;
}

static int parse_listen(struct config *cfg, const int *from_env, char *err, size_t errsz)
{
	const char *v = cfg->listen_host;
	const char *colon = strrchr(v, ':');
	int64_t port;
	char name[96];

	key_label(from_env, "listen", name, sizeof(name));

	if (!colon || colon == v || !wk_parse_i64(colon + 1, 1, 65535, &port)) {
		snprintf(err, errsz, "config key %s: expected host:port, e.g. 127.0.0.1:8080, got \"%.64s\"",
			 name, v);
		return -1;
	}
	cfg->listen_port = (int)port;
	cfg->listen_host[colon - v] = '\0';
	return 0;
}

static int valid_name(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return 0;
	return 1;
}

static int is_http_url(const char *s)
{
	return (strncmp(s, "http://", 7) == 0 && s[7]) || (strncmp(s, "https://", 8) == 0 && s[8]);
}

/* -1 with err naming the key when value is not an http(s) URL, else 0. */
/* redis.url in full (its own sentences never repeat a password), the
 * passwords each in one place, then the store's process-wide options. */
static int check_redis(const struct config *cfg, const int *from_env, char *err, size_t errsz)
{
	struct store_url u;
	char msg[160], name[96];

	if (store_url_parse(cfg->redis_url, &u, msg, sizeof(msg)) < 0) {
		snprintf(err, errsz, "config key %s: %s", key_label(from_env, "redis.url", name, sizeof(name)), msg);
		return -1;
	}
	if (cfg->redis_password[0] && u.password[0]) {
		snprintf(err, errsz, "config key %s: the Redis URL carries a password already; set it in one place",
			 key_label(from_env, "redis.password", name, sizeof(name)));
		return -1;
	}
	if (cfg->redis_sentinel_password[0] && !u.sentinel.n) {
		snprintf(err, errsz, "config key %s: only used with a redis+sentinel:// URL",
			 key_label(from_env, "redis.sentinel_password", name, sizeof(name)));
		return -1;
	}
	if (cfg->redis_sentinel_password[0] && u.sentinel.password[0]) {
		snprintf(err, errsz, "config key %s: the redis+sentinel:// URL carries the sentinels' password "
				     "already; set it in one place",
			 key_label(from_env, "redis.sentinel_password", name, sizeof(name)));
		return -1;
	}
	return 0;
}

static int require_http_url(const char *value, const int *from_env, const char *key, char *err, size_t errsz)
{
	char name[96];

	if (is_http_url(value))
		return 0;
	snprintf(err, errsz, "config key %s: expected an http:// or https:// URL",
		 key_label(from_env, key, name, sizeof(name)));
	return -1;
}

/* prefix followed by exactly 32 hex digits: the shape of Twilio SIDs (AC..., MG...). */
static int is_twilio_sid(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 && strlen(s + n) == 32 &&
	       strspn(s + n, "0123456789abcdefABCDEF") == 32;
}

/* Twilio settings: each one checked only when set. A channel missing some of
 * its settings is not an error, it is simply not offered (twilio_configured). */
static int check_twilio(const struct config *cfg, const int *from_env, char *err, size_t errsz)
{
	const char *from = cfg->twilio_from;
	size_t n = strlen(from);
	char name[96];

	if (cfg->twilio_account_sid[0] && !is_twilio_sid(cfg->twilio_account_sid, "AC")) {
		snprintf(err, errsz, "config key %s: expected AC followed by 32 hex digits",
			 key_label(from_env, "twilio.account_sid", name, sizeof(name)));
		return -1;
	}
	if (cfg->twilio_messaging_service_sid[0] &&
	    !is_twilio_sid(cfg->twilio_messaging_service_sid, "MG")) {
		snprintf(err, errsz, "config key %s: expected MG followed by 32 hex digits",
			 key_label(from_env, "twilio.messaging_service_sid", name, sizeof(name)));
		return -1;
	}
	/* E.164, the same rule as a member's phone: + then 8..15 digits, no leading 0. */
	if (n && !(from[0] == '+' && n >= 9 && n <= 16 && from[1] >= '1' && from[1] <= '9' &&
		   strspn(from + 1, "0123456789") == n - 1)) {
		snprintf(err, errsz, "config key %s: expected an E.164 number such as +15005550006",
			 key_label(from_env, "twilio.from", name, sizeof(name)));
		return -1;
	}
	if (require_http_url(cfg->twilio_api_url, from_env, "twilio.api_url", err, errsz) < 0)
		return -1;
	return 0;
}

/* "0,300,600": 1..3 rising delays in seconds. */
static int check_step_delays(const char *s)
{
	char copy[64], *save = NULL;
	int64_t last = -1, v;
	int n = 0;

	if (wk_strlcpy(copy, s, sizeof(copy)) >= sizeof(copy))
		return -1;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (++n > 3 || !wk_parse_i64(t, 0, 86400, &v) || v <= last)
			return -1;
		last = v;
	}
	return n ? 0 : -1;
}

/* slack.commands into cfg->slack_command[]: each name 1..31 of [a-z0-9_-],
 * none that Slack keeps for itself, none twice; a COMMAND must be one in the
 * table. The first entry is the main command. */
static int parse_slack_commands(struct config *cfg, const int *from_env, char *err, size_t errsz)
{
	const char *p = cfg->slack_commands;
	char name[96], item[80];

	key_label(from_env, "slack.commands", name, sizeof(name));
	cfg->slack_ncommands = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		struct config_slack_command *e = &cfg->slack_command[cfg->slack_ncommands];
		const char *eq;
		const struct command *c;

		if (n >= sizeof(item) || cfg->slack_ncommands == CONFIG_SLACK_COMMANDS) {
			snprintf(err, errsz, "config key %s: expected at most %d names of at most %d characters",
				 name, CONFIG_SLACK_COMMANDS, CONFIG_SLACK_NAME_SIZE - 1);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n + (p[n] == ',');
		eq = strchr(item, '=');
		if (eq)
			item[eq++ - item] = '\0';
		c = cfg->slack_ncommands == 0 ? command_table[0] : eq ? dispatch_find_command(eq) : NULL;
		if (!valid_name(item[0] == '/' ? item + 1 : item, CONFIG_SLACK_NAME_SIZE - 1, "_-") ||
		    strpbrk(item, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
			snprintf(err, errsz, "config key %s: \"%.40s\" is not a slash command name "
					     "(lowercase letters, digits, '-' and '_', at most %d)",
				 name, item, CONFIG_SLACK_NAME_SIZE - 1);
			return -1;
		}
		if (!c || (cfg->slack_ncommands == 0 && eq && strcmp(eq, c->name) != 0)) {
			snprintf(err, errsz, "config key %s: \"%.40s\" needs =COMMAND naming a command "
					     "other than the first's, e.g. invite-prod=invite",
				 name, item);
			return -1;
		}
		wk_strlcpy(e->name, item[0] == '/' ? item + 1 : item, sizeof(e->name));
		wk_strlcpy(e->command, c->name, sizeof(e->command));
		if (slack_name_reserved(e->name)) {
			snprintf(err, errsz, "config key %s: Slack keeps /%s for itself (see "
					     "config/slack-reserved-commands.txt); pick another name",
				 name, e->name);
			return -1;
		}
		for (size_t i = 0; i < cfg->slack_ncommands; i++)
			if (strcmp(cfg->slack_command[i].name, e->name) == 0 ||
			    strcmp(cfg->slack_command[i].command, e->command) == 0) {
				snprintf(err, errsz, "config key %s: /%s or its command is named twice",
					 name, e->name);
				return -1;
			}
		cfg->slack_ncommands++;
	}
	if (cfg->slack_ncommands == 0) {
		snprintf(err, errsz, "config key %s: expected at least the main command's name, e.g. oncall",
			 name);
		return -1;
	}
	return 0;
}

/* Weekday of a civil date, 0 = Sunday (Sakamoto's method). */
static int civil_weekday(int y, int m, int d)
{
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
	if (m < 3)
		y -= 1;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static int derive_rotation(struct config *cfg, const int *from_env, char *err, size_t errsz)
{
	struct rotation_spec *r = &cfg->rotation;
	char hand[64], why[160], *words[3];
	int y, m, d, wd, h, mi, ntok = 0;
	char tail;

	char name[96];

	r->zone = tz_get(cfg->rotation_timezone);
	if (!r->zone) {
		snprintf(err, errsz, "config key %s: expected an IANA time zone such as Europe/Berlin, got \"%.64s\"",
			 key_label(from_env, "rotation.timezone", name, sizeof(name)), cfg->rotation_timezone);
		return -1;
	}
	/* The same parser as `/oncall rotation create ... handoff mon 09:00`. */
	wk_strlcpy(hand, cfg->rotation_handoff, sizeof(hand));
	for (char *save = NULL, *tok = strtok_r(hand, " \t", &save); tok && ntok < 3;
	     tok = strtok_r(NULL, " \t", &save))
		words[ntok++] = tok;
	if (strlen(cfg->rotation_handoff) >= sizeof(hand) || ntok > 2 ||
	    when_parse_handoff(ntok, words, false, &wd, &h, &mi, why, sizeof(why)) != ntok) {
		snprintf(err, errsz, "config key %s: expected a weekday and a 24-hour time, e.g. \"monday 09:00\" or \"mon 09:00\", got \"%.64s\"",
			 key_label(from_env, "rotation.handoff", name, sizeof(name)), cfg->rotation_handoff);
		return -1;
	}
	if (sscanf(cfg->rotation_start, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
	    strlen(cfg->rotation_start) != 10 || y < 1970 || y > 2200 || m < 1 || m > 12 ||
	    d < 1 || d > days_in_month(y, m)) {
		snprintf(err, errsz, "config key %s: expected a date YYYY-MM-DD, got \"%.64s\"",
			 key_label(from_env, "rotation.start", name, sizeof(name)), cfg->rotation_start);
		return -1;
	}
	/* Move the start forward to the handoff weekday so every shift is one week. */
	d += (wd - civil_weekday(y, m, d) + 7) % 7;
	r->start_year = y;
	r->start_month = m;
	r->start_day = d;	/* may exceed the month; rotation normalises like mktime */
	r->handoff_hour = h;
	r->handoff_minute = mi;
	r->unit = ROTATION_WEEKS;
	r->length = 1;
	return rotation_spec_validate(r, err, errsz) < 0 ? -1 : 0;
}

/* A GUID: 8-4-4-4-12 hex digits. */
static bool is_guid(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };

	for (size_t g = 0; g < ARRAY_LEN(groups); g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
				return false;
		if (*s != (g + 1 < ARRAY_LEN(groups) ? '-' : '\0'))
			return false;
		s++;
	}
	return true;
}

/* With teams.app_id set, the rest of Teams' keys must say how to reach it. */
static int teams_config_check(struct config *cfg, const int *from_env, char *err, size_t errsz)
{
	char name[96], url[512];

	if (!is_guid(cfg->teams_app_id)) {
		snprintf(err, errsz, "config key %s: expected the Microsoft App ID, a GUID like "
			 "00000000-0000-0000-0000-000000000000", key_label(from_env, "teams.app_id", name, sizeof(name)));
		return -1;
	}
	if (!cfg->teams_app_password[0]) {
		snprintf(err, errsz, "config key %s: required when teams.app_id is set (the bot's client secret)",
			 key_label(from_env, "teams.app_password", name, sizeof(name)));
		return -1;
	}
	if (!is_guid(cfg->teams_tenant_id) && strcmp(cfg->teams_tenant_id, "botframework.com") != 0) {
		snprintf(err, errsz, "config key %s: required when teams.app_id is set: the bot's home tenant id "
			 "(a GUID), or \"botframework.com\" for a legacy multi-tenant bot",
			 key_label(from_env, "teams.tenant_id", name, sizeof(name)));
		return -1;
	}
	if (require_http_url(cfg->teams_openid_url, from_env, "teams.openid_url", err, errsz) < 0)
		return -1;
	if (!cfg->teams_token_url[0]) {
		snprintf(url, sizeof(url), "https://login.microsoftonline.com/%s/oauth2/v2.0/token", cfg->teams_tenant_id);
		free(cfg->teams_token_url);
		cfg->teams_token_url = xstrdup(url);
	} else if (require_http_url(cfg->teams_token_url, from_env, "teams.token_url", err, errsz) < 0) {
		return -1;
	}
	return 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errsz)
{
	json_t *root = NULL;
	json_error_t jerr;
	int from_env[ARRAY_LEN(config_keys)] = { 0 };
	char name[96];
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < ARRAY_LEN(config_keys); i++)
		if (set_value(cfg, &config_keys[i], config_keys[i].def, 0, err, errsz) < 0)
			goto out;
	if (path) {
		root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
		if (!root && jerr.line < 1) {	/* not a parse error: the file could not be read */
			snprintf(err, errsz, "config file %s: %s", path, jerr.text);
			goto out;
		}
		if (!root) {
			snprintf(err, errsz, "config file %s: %s (line %d, column %d)", path, jerr.text,
				 jerr.line, jerr.column);
			goto out;
		}
		if (!json_is_object(root)) {
			snprintf(err, errsz, "config file %s: expected a JSON object at the top", path);
			goto out;
		}
		if (check_unknown(root, "", err, errsz) < 0)
			goto out;
		for (size_t i = 0; i < ARRAY_LEN(config_keys); i++) {
			json_t *v = json_path(root, config_keys[i].path);
			if (v && load_json_value(cfg, &config_keys[i], v, err, errsz) < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(config_keys); i++) {
		const char *v = getenv(config_keys[i].env);
		if (!v)
			continue;
		from_env[i] = 1;
		if (set_value(cfg, &config_keys[i], v, 1, err, errsz) < 0)
			goto out;
	}

	if (parse_listen(cfg, from_env, err, errsz) < 0)
		goto out;
	if (require_http_url(cfg->public_url, from_env, "public_url", err, errsz) < 0)
		goto out;
	if (check_redis(cfg, from_env, err, errsz) < 0)
		goto out;
	if (log_level_parse(cfg->log_level) < 0) {
		snprintf(err, errsz, "config key %s: expected one of debug, info, warn, error, got \"%.32s\"",
			 key_label(from_env, "log_level", name, sizeof(name)), cfg->log_level);
		goto out;
	}
	if (cfg->slack_bot_token[0] && strncmp(cfg->slack_bot_token, "xoxb-", 5) != 0) {
		snprintf(err, errsz, "config key %s: expected a bot token starting with xoxb-",
			 key_label(from_env, "slack.bot_token", name, sizeof(name)));
		goto out;
	}
	if (require_http_url(cfg->slack_api_url, from_env, "slack.api_url", err, errsz) < 0 ||
	    require_http_url(cfg->slack_oauth_url, from_env, "slack.oauth_url", err, errsz) < 0)
		goto out;
	if (cfg->slack_app_token[0] && strncmp(cfg->slack_app_token, "xapp-", 5) != 0) {
		snprintf(err, errsz, "config key %s: expected an app-level token starting with xapp-",
			 key_label(from_env, "slack.app_token", name, sizeof(name)));
		goto out;
	}
	if (!cfg->slack_client_id[0] != !cfg->slack_client_secret[0]) {
		snprintf(err, errsz, "config key %s is set but %s is not: installing into workspaces needs both",
			 cfg->slack_client_id[0] ? key_label(from_env, "slack.client_id", name, sizeof(name))
						 : key_label(from_env, "slack.client_secret", name, sizeof(name)),
			 cfg->slack_client_id[0] ? "slack.client_secret (WK_SLACK_CLIENT_SECRET)"
						 : "slack.client_id (WK_SLACK_CLIENT_ID)");
		goto out;
	}
	if (cfg->teams_app_id[0] && teams_config_check(cfg, from_env, err, errsz) < 0)
		goto out;
	if (!valid_name(cfg->console_org, 32, "_-") || !valid_name(cfg->console_user, 32, "._-")) {
		snprintf(err, errsz, "config key \"console.org\"/\"console.user\": expected letters, digits, '.', '_' or '-', at most 32");
		goto out;
	}
	if (cfg->smtp_url[0] && strncmp(cfg->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(cfg->smtp_url, "smtps://", 8) != 0 &&
	    strncmp(cfg->smtp_url, "smtp+insecure://", 16) != 0) {
		snprintf(err, errsz, "config key %s: expected smtp://host:port (STARTTLS), smtps://host:port, "
				     "or smtp+insecure://host:port for a local relay",
			 key_label(from_env, "smtp.url", name, sizeof(name)));
		goto out;
	}
	if (cfg->smtp_url[0] && !cfg->smtp_from[0]) {
		snprintf(err, errsz, "config key %s: must be set when smtp.url is (the sender address)",
			 key_label(from_env, "smtp.from", name, sizeof(name)));
		goto out;
	}
	if (check_step_delays(cfg->incidents_step_delays_s) < 0) {
		snprintf(err, errsz, "config key %s: expected 1 to 3 rising numbers of seconds from 0..86400, "
				     "like 0,300,600",
			 key_label(from_env, "incidents.step_delays_s", name, sizeof(name)));
		goto out;
	}
	for (size_t i = 0; i < 2; i++) {
		const char *key = i ? "secrets.key_previous" : "secrets.key";
		char why[160];
		if (secrets_check_key(i ? cfg->secret_key_previous : cfg->secret_key, why, sizeof(why)) < 0) {
			snprintf(err, errsz, "config key %s: %s", key_label(from_env, key, name, sizeof(name)), why);
			goto out;
		}
	}
	if (require_http_url(cfg->github_api_url, from_env, "github.api_url", err, errsz) < 0)
		goto out;
	if (cfg->workers_max_per_org > cfg->workers) {
		snprintf(err, errsz, "config key %s: %lld is more than workers (%lld): one org could take "
				     "every worker",
			 key_label(from_env, "workers_max_per_org", name, sizeof(name)),
			 (long long)cfg->workers_max_per_org, (long long)cfg->workers);
		goto out;
	}
	if (check_twilio(cfg, from_env, err, errsz) < 0)
		goto out;
	if (parse_slack_commands(cfg, from_env, err, errsz) < 0)
		goto out;
	if (derive_rotation(cfg, from_env, err, errsz) < 0)
		goto out;
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < ARRAY_LEN(config_keys); i++) {
		if (config_keys[i].type == CFG_STRING) {
			char **s = key_str(cfg, &config_keys[i]);
			free(*s);
			*s = NULL;
		}
	}
}

void config_describe(const struct config *cfg, FILE *out)
{
	struct config *c = (struct config *)cfg;

	for (size_t i = 0; i < ARRAY_LEN(config_keys); i++) {
		const struct config_key *k = &config_keys[i];
		if (k->type == CFG_INT)
			fprintf(out, "%-22s %-26s %lld\n", k->path, k->env, (long long)*key_int(c, k));
		else if (k->flags & CFG_SECRET)
			fprintf(out, "%-22s %-26s %s\n", k->path, k->env, (*key_str(c, k))[0] ? "(set)" : "(empty)");
		else if (strcmp(k->path, "listen") == 0)
			fprintf(out, "%-22s %-26s %s:%d\n", k->path, k->env, cfg->listen_host, cfg->listen_port);
		else
			fprintf(out, "%-22s %-26s %s\n", k->path, k->env, *key_str(c, k));
	}
}
