/* incident_service.c - `/incident service ...`: services that alerts and
 * incidents are about (bot/service.h). Admins change them; viewers list. */
#include "bot/cmdline.h"
#include "bot/handoff.h"
#include "bot/member.h"
#include "bot/service.h"
#include "bot/team.h"
#include "bot/util.h"
#include "commands/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define SERVICE_MAX_TEXT STR(SERVICE_MAX)
#define SERVICE_OWNERS_MAX_TEXT STR(SERVICE_OWNERS_MAX)

static struct service_actor actor(const struct cmd_ctx *ctx)
{
	return (struct service_actor){ ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
				       ctx->now_ms };
}

/* A service name people typed: refuse a bad one with how names look. */
static bool name_ok(const char *name, struct reply *r)
{
	char shown[64];

	if (strlen(name) < INCIDENT_NAME_MAX && team_name_valid(name))
		return true;
	reply_textf(r, "`%s` can't be a service name: use letters, digits, '-' or '_', up to %d characters.",
		    reply_escape(shown, sizeof(shown), name), INCIDENT_NAME_MAX - 1);
	return false;
}

/* What each outcome but SERVICE_DONE says (the name goes into each %s) and means. */
static const struct {
	const char *text;
	enum cmd_result res;
} outcomes[] = {
	[SERVICE_EXISTS] = { "There is a service `%s` already. `/incident service list` shows them.", CMD_REFUSED },
	[SERVICE_MISSING] = { "There is no service `%s`. Make it with `/incident service create %s`.", CMD_REFUSED },
	[SERVICE_UNCHANGED] = { "Service `%s` is already like that; nothing changed.", CMD_OK },
	[SERVICE_FULL] = { "Service `%s` can't take more: an org has at most " SERVICE_MAX_TEXT " services, a "
			   "service at most " SERVICE_OWNERS_MAX_TEXT " owners.", CMD_REFUSED },
};

static enum cmd_result outcome(enum service_outcome o, const char *name, struct reply *r)
{
	if (o == SERVICE_DONE)
		return CMD_OK;
	reply_textf(r, outcomes[o].text, name, name);
	return outcomes[o].res;
}

enum cmd_result incident_service_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[INCIDENT_NAME_MAX] = "default", shown[64];
	struct service_actor a = actor(ctx);
	enum service_outcome o;

	if (!name_ok(argv[0], r))
		return CMD_REFUSED;
	if (argc == 2 || (argc == 3 && strcasecmp(argv[1], "team") != 0)) {
		reply_textf(r, "Usage: `/incident service create NAME [team T]`.");
		return CMD_REFUSED;
	}
	if (argc == 3) {
		int rc = team_resolve(ctx->store, ctx->org_id, argv[2], team, sizeof(team));
		if (rc != 0) {
			if (rc < 0)
				return CMD_STORE_ERROR;
			reply_textf(r, "There is no team `%s`. `/invite team list` shows them.",
				    reply_escape(shown, sizeof(shown), argv[2]));
			return CMD_REFUSED;
		}
	}
	if (service_create(ctx->store, &a, argv[0], team, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != SERVICE_DONE)
		return outcome(o, argv[0], r);
	reply_textf(r, "Made service *%s* (team %s). Its `critical` and `error` incidents page the team's on-call; "
		       "`warning` and `info` ones page nobody (`/incident service pages %s warning` changes that). "
		       "Send its alerts here with `/incident integration create alertmanager service=%s`.",
		    argv[0], argc == 3 ? argv[2] : "default", argv[0], argv[0]);
	return CMD_OK;
}

enum cmd_result incident_service_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct service *list;
	struct buf b = BUF_INIT(8192);
	size_t n;

	(void)argc;
	(void)argv;
	if (service_list(ctx->store, ctx->org_id, &list, &n) < 0)
		return CMD_STORE_ERROR;
	if (!n) {
		reply_textf(r, "There are no services yet. An admin makes one with `/incident service create NAME`.");
		free(list);
		buf_free(&b);
		return CMD_OK;
	}
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "• *%s*: team %s, pages from %s up", list[i].name, list[i].team, list[i].pages);
		if (list[i].channel[0])
			buf_printf(&b, ", alerts in <#%s>", list[i].channel);
		for (size_t j = 0; j < list[i].nowners; j++)
			buf_printf(&b, "%s<@%s>", j ? ", " : ", owners ", list[i].owners[j]);
		buf_adds(&b, "\n");
	}
	free(list);
	reply_textf(r, "Services:");
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	return CMD_OK;
}

enum cmd_result incident_service_delete(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct service_actor a = actor(ctx);
	enum service_outcome o;

	(void)argc;
	if (!name_ok(argv[0], r))
		return CMD_REFUSED;
	if (service_delete(ctx->store, &a, argv[0], &o) < 0)
		return CMD_STORE_ERROR;
	if (o != SERVICE_DONE)
		return outcome(o, argv[0], r);
	reply_textf(r, "Deleted service *%s*. Its incidents stay; alerts still sent to its integrations are "
		       "refused (`/incident integration list`, then `revoke`).", argv[0]);
	return CMD_OK;
}

enum cmd_result incident_service_owner(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct service_actor a = actor(ctx);
	enum service_outcome o;
	char who[64], shown[80];
	bool add = argc == 2;
	struct member m;
	int got;

	if (!name_ok(argv[0], r))
		return CMD_REFUSED;
	if (argc == 3 && strcasecmp(argv[2], "remove") != 0) {
		reply_textf(r, "Usage: `/incident service owner NAME @user [remove]`.");
		return CMD_REFUSED;
	}
	if (cmdline_person(ctx->req->platform, argv[1], who, sizeof(who)) != 0) {
		reply_textf(r, "`%s` is not a user. Mention them with @.", reply_escape(shown, sizeof(shown), argv[1]));
		return CMD_REFUSED;
	}
	if (add && (got = member_get(ctx->store, ctx->org_id, who, &m)) != 0) {
		if (got < 0)
			return CMD_STORE_ERROR;
		reply_textf(r, "<@%s> is not a member here; `/invite` brings them in first.", who);
		return CMD_REFUSED;
	}
	if (service_owner(ctx->store, &a, argv[0], who, add, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != SERVICE_DONE)
		return outcome(o, argv[0], r);
	reply_textf(r, add ? "<@%s> now owns service *%s*." : "<@%s> no longer owns service *%s*.", who, argv[0]);
	return CMD_OK;
}

enum cmd_result incident_service_channel(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct service_actor a = actor(ctx);
	enum service_outcome o;
	char channel[32] = "";
	bool off = strcasecmp(argv[1], "off") == 0;

	(void)argc;
	if (!name_ok(argv[0], r))
		return CMD_REFUSED;
	if (!off) {
		handoff_channel_parse(argv[1], ctx->req->channel_id, channel, sizeof(channel));
		if (!channel[0]) {
			reply_textf(r, "Say `here` for this channel, pick a channel with #, or `off`. Direct messages "
				       "can't carry a service's alerts.");
			return CMD_REFUSED;
		}
	}
	if (service_set(ctx->store, &a, argv[0], "channel", channel, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != SERVICE_DONE)
		return outcome(o, argv[0], r);
	if (off)
		reply_textf(r, "Alerts of service *%s* go to no channel now.", argv[0]);
	else
		reply_textf(r, "Alerts of service *%s* will be posted in <#%s>. The bot must be in that channel: "
			       "invite it there with Slack's `/invite @Watchkeeper`.", argv[0], channel);
	return CMD_OK;
}

enum cmd_result incident_service_pages(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct service_actor a = actor(ctx);
	enum service_outcome o;
	char shown[64];
	int sev = incident_severity_parse(argv[1]);

	(void)argc;
	if (!name_ok(argv[0], r))
		return CMD_REFUSED;
	if (sev < 0) {
		reply_textf(r, "`%s` is not a severity. Use one of critical, error, warning, info.",
			    reply_escape(shown, sizeof(shown), argv[1]));
		return CMD_REFUSED;
	}
	const char *name = incident_severity_name((enum incident_severity)sev);
	if (service_set(ctx->store, &a, argv[0], "pages", name, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != SERVICE_DONE)
		return outcome(o, argv[0], r);
	struct buf b = BUF_INIT(256);
	for (int i = 0; i < SEV_COUNT; i++)
		buf_printf(&b, "%s%s", i ? (i == sev + 1 ? "; these page nobody: " : ", ") : "",
			   incident_severity_name((enum incident_severity)i));
	reply_textf(r, "Service *%s* pages people for %s%s.", argv[0], buf_cstr(&b),
		    sev == SEV_INFO ? " (every severity)" : "");
	buf_free(&b);
	return CMD_OK;
}
