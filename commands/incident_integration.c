/* incident_integration.c - `/incident integration ...`: the webhook tokens
 * monitoring systems send alerts with (bot/integration.h), and the secrets
 * Sentry and Grafana sign them with (sealed, bot/secrets.h). Admins only. */
#include "bot/integration.h"
#include "bot/secrets.h"
#include "bot/service.h"
#include "bot/team.h"
#include "bot/tz.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct integration_actor actor(const struct cmd_ctx *ctx)
{
	return (struct integration_actor){ ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
					   ctx->now_ms };
}

/* What each source needs set up on its side, after the URL. */
static const char *const setup_hint[SRC_COUNT] = {
	[SRC_ALERTMANAGER] = "In Alertmanager, add a receiver with `webhook_configs: [{url: <that URL>}]` (or post to "
			     "`/hooks/alertmanager` with `http_config.authorization.credentials` set to the token).",
	[SRC_GRAFANA] = "In Grafana, add a Webhook contact point with that URL. To have Grafana sign its requests "
			"too, set an HMAC secret there and store it here with `/incident integration secret ID SECRET` "
			"in a DM.",
	[SRC_SENTRY] = "In Sentry, make an internal integration with that Webhook URL and the *issue* and alert rule "
		       "events, then store its Client Secret with `/incident integration secret ID SECRET` in a DM "
		       "to me: until then its requests are refused.",
	[SRC_GENERIC] = "POST our JSON there: `{\"summary\": \"...\", \"severity\": \"error\", \"dedup_key\": \"...\", "
			"\"action\": \"trigger\"}` (README: the generic format).",
};

static int64_t id_arg(const char *s, struct reply *r)
{
	int64_t id;
	char shown[40];

	if (s[0] == 'i' || s[0] == '#')
		s++;
	if (wk_parse_i64(s, 1, INT64_MAX / 2, &id))
		return id;
	reply_textf(r, "`%s` is not an integration id; `/incident integration list` shows them.",
		    reply_escape(shown, sizeof(shown), s));
	return -1;
}

static enum cmd_result missing(int64_t id, struct reply *r)
{
	reply_textf(r, "There is no integration %lld. `/incident integration list` shows them.", (long long)id);
	return CMD_REFUSED;
}

enum cmd_result incident_integration_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct integration_actor a = actor(ctx);
	char token[INTEGRATION_TOKEN_LEN + 1], base[512], shown[64];
	enum integration_outcome o;
	int src = integration_source_parse(argv[0]);
	const char *service = argc == 2 && strncasecmp(argv[1], "service=", 8) == 0 ? argv[1] + 8 : NULL;
	int64_t id;
	size_t n;

	if (src < 0 || !service || !service[0]) {
		reply_textf(r, "Usage: `/incident integration create alertmanager|grafana|sentry|generic service=NAME`.");
		return CMD_REFUSED;
	}
	if (strlen(service) >= INCIDENT_NAME_MAX || !team_name_valid(service)) {
		reply_textf(r, "`%s` can't be a service name.", reply_escape(shown, sizeof(shown), service));
		return CMD_REFUSED;
	}
	if (integration_create(ctx->store, &a, (enum integration_source)src, service, &id, token, &o) < 0)
		return CMD_STORE_ERROR;
	if (o == INTEGRATION_NO_SERVICE) {
		reply_textf(r, "There is no service `%s`. Make it first: `/incident service create %s`.", service, service);
		return CMD_REFUSED;
	}
	if (o == INTEGRATION_FULL) {
		reply_textf(r, "This workspace has %d integrations, the most it may have; `/incident integration "
			       "revoke ID` one first.", INTEGRATION_MAX);
		return CMD_REFUSED;
	}
	n = wk_strlcpy(base, ctx->cfg->public_url, sizeof(base));
	while (n > 0 && n < sizeof(base) && base[n - 1] == '/')
		base[--n] = '\0';
	r->personal = true;
	reply_textf(r, "Made %s integration %lld for service *%s*. Its URL, shown only this once (keep it secret: "
		       "anyone with it can open incidents):", integration_source_name((enum integration_source)src),
		    (long long)id, service);
	reply_section(r, "`%s/hooks/%s/%s`\n%s", base, integration_source_name((enum integration_source)src), token,
		      setup_hint[src]);
	memset(token, 0, sizeof(token));
	return CMD_OK;
}

enum cmd_result incident_integration_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	const struct tz *z = ctx->tz && ctx->tz[0] ? tz_get(ctx->tz) : NULL;
	struct integration *list;
	struct buf b = BUF_INIT(8192);
	size_t n;

	(void)argc;
	(void)argv;
	if (!z)
		z = ctx->cfg->rotation.zone;
	if (integration_list(ctx->store, ctx->org_id, &list, &n) < 0)
		return CMD_STORE_ERROR;
	for (size_t i = 0; i < n; i++) {
		char made[64], used[64] = "never";
		when_format(z, list[i].created_ms / 1000, made, sizeof(made));
		if (list[i].last_used_ms > 0)
			when_format(z, list[i].last_used_ms / 1000, used, sizeof(used));
		buf_printf(&b, "• *%lld* %s, service %s, made %s by <@%s>, last used %s%s\n", (long long)list[i].id,
			   list[i].source, list[i].service, made, list[i].created_by, used,
			   strcmp(list[i].source, "sentry") == 0 && !list[i].has_secret ? " (no client secret yet)" : "");
	}
	free(list);
	if (!n)
		reply_textf(r, "There are no integrations. `/incident integration create alertmanager service=NAME` "
			       "makes one.");
	else {
		reply_textf(r, "Integrations (their URLs were shown once, when made):");
		reply_section(r, "%s", buf_cstr(&b));
	}
	buf_free(&b);
	return CMD_OK;
}

enum cmd_result incident_integration_revoke(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct integration_actor a = actor(ctx);
	enum integration_outcome o;
	int64_t id = id_arg(argv[0], r);

	(void)argc;
	if (id < 0)
		return CMD_REFUSED;
	if (integration_revoke(ctx->store, &a, id, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != INTEGRATION_DONE)
		return missing(id, r);
	reply_textf(r, "Revoked integration %lld: its URL stops working now.", (long long)id);
	return CMD_OK;
}

enum cmd_result incident_integration_secret(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct integration_actor a = actor(ctx);
	char sealed[SECRETS_SEALED_SIZE], context[200], why[160];
	enum integration_outcome o;
	int64_t id;

	(void)argc;
	/* A secret typed in a channel is seen by everyone there: only a DM (or the
	 * local console) may carry one. */
	if (ctx->req->platform != PLATFORM_CONSOLE && ctx->req->channel_id[0] != 'D') {
		reply_textf(r, "Send secrets only in a direct message to me: typed here, everyone in this channel "
			       "could read it. Nothing was stored. If this channel is shared, make a new secret at "
			       "the source.");
		return CMD_REFUSED;
	}
	if ((id = id_arg(argv[0], r)) < 0)
		return CMD_REFUSED;
	if (!secrets_enabled(ctx->cfg)) {
		reply_textf(r, "Secrets can't be stored: this Watchkeeper has no `secrets.key` (`WK_SECRET_KEY`, "
			       "32 random bytes in base64) to seal them with. Ask its operator to set one.");
		return CMD_REFUSED;
	}
	if (strlen(argv[1]) > 512) {
		reply_textf(r, "That secret is longer than 512 characters; nothing was stored.");
		return CMD_REFUSED;
	}
	integration_secret_context(ctx->org_id, id, context, sizeof(context));
	if (secrets_seal(ctx->cfg, context, argv[1], strlen(argv[1]), sealed, sizeof(sealed), why, sizeof(why)) < 0) {
		reply_textf(r, "The secret could not be sealed (%s); nothing was stored.", why);
		return CMD_REFUSED;
	}
	if (integration_set_secret(ctx->store, &a, id, sealed, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != INTEGRATION_DONE)
		return missing(id, r);
	reply_textf(r, "Stored the signing secret of integration %lld, encrypted. Its requests must now carry a "
		       "valid signature.", (long long)id);
	return CMD_OK;
}
