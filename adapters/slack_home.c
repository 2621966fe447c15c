/* slack_home.c - see slack_home.h */
#include "adapters/slack_home.h"
#include "adapters/adapter.h"
#include "bot/dispatch.h"
#include "bot/member.h"
#include "bot/team.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Teams shown one by one; an org with more gets a line naming the rest's command. */
#define HOME_TEAMS_MAX 8

void slack_home_init(struct slack_home *h)
{
	h->blocks = json_array();
	h->dropped = 0;
}

void slack_home_free(struct slack_home *h)
{
	json_decref(h->blocks);
	h->blocks = NULL;
}

static json_t *text_object(const char *type, const char *text)
{
	return json_pack("{s:s, s:s}", "type", type, "text", text);
}

static json_t *section(const char *mrkdwn)
{
	return json_pack("{s:s, s:o}", "type", "section", "text", text_object("mrkdwn", mrkdwn));
}

/* heading cut to Slack's limit on a character boundary. */
static json_t *header(const char *heading)
{
	char cut[SLACK_HOME_HEADER_MAX * 4 + 1];
	size_t chars = 0, i = 0;

	for (; heading[i] && i + 4 < sizeof(cut); i++) {
		if (((unsigned char)heading[i] & 0xC0) != 0x80 && ++chars > SLACK_HOME_HEADER_MAX)
			break;
		cut[i] = heading[i];
	}
	cut[i] = '\0';
	return json_pack("{s:s, s:o}", "type", "header", "text", text_object("plain_text", cut[0] ? cut : " "));
}

/* r as the renderer makes it, its blocks without the buttons; NULL when it
 * can't be rendered (too long for the buffer). */
static json_t *reply_blocks(const struct reply *r)
{
	struct buf out = BUF_INIT(256 * 1024);
	json_error_t err;
	json_t *msg = NULL, *blocks = NULL, *b;
	size_t i;

	if (slack_adapter.render(r, &out) == 0 && (msg = json_loadb(buf_cstr(&out), out.len, 0, &err))) {
		blocks = json_array();
		json_array_foreach(json_object_get(msg, "blocks"), i, b) {
			const char *type = json_string_value(json_object_get(b, "type"));
			if (type && strcmp(type, "actions") != 0)
				json_array_append(blocks, b);
		}
	}
	json_decref(msg);
	buf_free(&out);
	return blocks;
}

void slack_home_part(struct slack_home *h, const char *heading, const struct reply *r, const char *more)
{
	json_t *blocks = reply_blocks(r), *b;
	size_t i, room;
	char line[256];

	/* One block is kept for the note about parts that did not fit. */
	room = SLACK_HOME_BLOCKS - 1 - json_array_size(h->blocks);
	if (room < 2) {
		h->dropped++;
		json_decref(blocks);
		return;
	}
	json_array_append_new(h->blocks, header(heading));
	if (blocks && json_array_size(blocks) + 1 <= room) {
		json_array_foreach(blocks, i, b)
			json_array_append(h->blocks, b);
	} else {
		snprintf(line, sizeof(line), "That is too long to show here; type `%s` to see it.", more ? more : "help");
		json_array_append_new(h->blocks, section(line));
	}
	json_decref(blocks);
}

json_t *slack_home_body(const struct slack_home *h, const char *user_id)
{
	json_t *blocks = json_copy(h->blocks);

	if (h->dropped)
		json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "context", "elements",
							text_object("mrkdwn", "There is more than fits here: "
									      "`/oncall help` lists what to ask.")));
	return json_pack("{s:s, s:{s:s, s:o}}", "user_id", user_id, "view", "type", "home", "blocks", blocks);
}

/* One command run as user would type it, its answer a part of the Home. */
static void run(struct worker *w, struct slack_home *h, const char *team, const char *user, const char *command,
		const char *text, const char *heading)
{
	struct dispatch_env env = { .store = w->store, .cfg = w->cfg, .schedules = w->schedules };
	struct request req;
	struct reply r;
	char more[160];

	request_init(&req, PLATFORM_SLACK);
	wk_strlcpy(req.org_external, team, sizeof(req.org_external));
	wk_strlcpy(req.user_id, user, sizeof(req.user_id));
	wk_strlcpy(req.command, command, sizeof(req.command));
	free(req.text);
	req.text = xstrdup(text);
	reply_init(&r);
	dispatch_request(&env, &req, &r);
	/* How the main Slack command reaches it: "/oncall incident list". */
	snprintf(more, sizeof(more), "/%s %s%s%s", w->cfg->slack_command[0].name,
		 strcmp(command, command_table[0]->name) == 0 ? "" : command,
		 strcmp(command, command_table[0]->name) == 0 ? "" : " ", text);
	slack_home_part(h, heading, &r, more);
	reply_free(&r);
	request_free(&req);
}

static void join_home(const struct config *cfg, struct slack_home *h)
{
	const char *cmd = cfg->slack_command[0].name;
	struct reply r;

	reply_init(&r);
	reply_textf(&r, "You are not in this workspace's on-call yet.");
	reply_section(&r, "If your team uses Watchkeeper, ask an admin for an invite (`/%s invite link`) and join "
			   "with `/%s invite join CODE`.", cmd, cmd);
	reply_section(&r, "If nobody does yet, type `/%s` to start: you become its owner and can invite the others.",
		      cmd);
	slack_home_part(h, "Welcome to Watchkeeper", &r, NULL);
	reply_free(&r);
}

json_t *slack_home_build(struct worker *w, const char *team, const char *user, char *why, size_t whysize)
{
	struct slack_home h;
	struct member m;
	struct team_info *teams = NULL;
	size_t nteams = 0;
	char org[96], heading[96];
	json_t *body;
	int rc;

	if (org_id_make(PLATFORM_SLACK, team, org, sizeof(org)) < 0) {
		snprintf(why, whysize, "the team id can't name an org");
		return NULL;
	}
	/* Read first, so that opening the Home never makes anyone an owner. */
	rc = member_get(w->store, org, user, &m);
	if (rc == 0 && !m.placeholder && team_list(w->store, org, &teams, &nteams) < 0)
		rc = -1;
	if (rc < 0) {
		snprintf(why, whysize, "Redis failed reading the member or the teams: %s", store_error(w->store));
		return NULL;
	}
	slack_home_init(&h);
	if (rc == 1 || m.placeholder) {
		join_home(w->cfg, &h);
	} else if (nteams <= 1) {
		run(w, &h, team, user, "oncall", "now", "On call now");
	} else {
		for (size_t i = 0; i < nteams && i < HOME_TEAMS_MAX; i++) {
			char text[64];
			snprintf(heading, sizeof(heading), "On call now: %s", teams[i].name);
			snprintf(text, sizeof(text), "now %s", teams[i].name);
			run(w, &h, team, user, "oncall", text, heading);
		}
		if (nteams > HOME_TEAMS_MAX) {
			struct reply r;
			reply_init(&r);
			reply_textf(&r, "%zu more teams: `/%s now TEAM` shows each.", nteams - HOME_TEAMS_MAX,
				    w->cfg->slack_command[0].name);
			slack_home_part(&h, "Other teams", &r, NULL);
			reply_free(&r);
		}
	}
	if (rc == 0 && !m.placeholder) {
		run(w, &h, team, user, "oncall", "when", "Your next shifts");
		run(w, &h, team, user, "incident", "list", "Open incidents");
	}
	free(teams);
	body = slack_home_body(&h, user);
	slack_home_free(&h);
	if (!body)
		snprintf(why, whysize, "the view could not be encoded");
	return body;
}
