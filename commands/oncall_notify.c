/* oncall_notify.c - `/oncall` on reaching people: contact rules (`me notify`,
 * `notify default`), pages (`page`, the Acknowledge button), test pages
 * (`me test`) and the delivery log (`notifications`). The work itself is in
 * bot/contact.c, bot/page.c and bot/outbox.c. */
#include "adapters/adapter.h"
#include "bot/contact.h"
#include "bot/courier.h"
#include "bot/engine.h"
#include "bot/incident.h"
#include "bot/member.h"
#include "bot/notify.h"
#include "bot/outbox.h"
#include "bot/page.h"
#include "bot/timers.h"
#include "bot/when.h"
#include "bot/util.h"
#include "commands/oncall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const source_names[] = {
	[CONTACT_OWN] = "your own",
	[CONTACT_ORG_DEFAULT] = "the org's default",
	[CONTACT_BUILTIN_DEFAULT] = "the built-in default",
};

/* What each step of rules will do for this person now: which are skipped
 * because there is no address or no provider. */
static void rules_reach(struct cmd_ctx *ctx, const char *member, const struct contact_rules *rules,
			struct reply *r)
{
	char available[64];
	struct buf b = BUF_INIT(1024);

	if (outbox_channels_for(ctx->store, ctx->cfg, ctx->org_id, member, available, sizeof(available)) < 0)
		return;
	for (size_t i = 0; i < rules->n; i++) {
		const char *m = rules->rule[i].method;
		char ch[16];
		if (page_channel_for(m, available, ch, sizeof(ch)))
			continue;
		buf_printf(&b, "• %s is skipped: %s\n", strcmp(m, "sms") == 0 ? "SMS" : m,
			   strcmp(m, "sms") == 0 ? "no phone (`/oncall me phone +E164`), SMS is not set up, or you "
						   "texted STOP"
			   : strcmp(m, "email") == 0 ? "no email (`/oncall me email ADDRESS`) or email is not set up"
						     : "chat messages are not set up");
	}
	if (b.len)
		reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

enum cmd_result oncall_me_notify(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct contact_rules rules;
	enum contact_source source;
	char why[200], desc[160];

	if (argc == 1 && strcasecmp(argv[0], "default") == 0) {
		if (contact_rules_set_member(ctx->store, ctx->org_id, ctx->req->user_id, NULL) < 0 ||
		    contact_rules_get(ctx->store, ctx->org_id, ctx->req->user_id, &rules, &source) < 0)
			return CMD_STORE_ERROR;
		reply_textf(r, "You now follow %s: %s.", source_names[source],
			    contact_rules_describe(&rules, desc, sizeof(desc)));
		rules_reach(ctx, ctx->req->user_id, &rules, r);
		return CMD_OK;
	}
	if (argc) {
		if (contact_rules_parse(argc, argv, &rules, why, sizeof(why)) < 0) {
			reply_textf(r, "I did not change how you are paged: %s.", why);
			return CMD_REFUSED;
		}
		if (contact_rules_set_member(ctx->store, ctx->org_id, ctx->req->user_id, &rules) < 0)
			return CMD_STORE_ERROR;
		reply_textf(r, "When you are paged: %s, until you acknowledge.",
			    contact_rules_describe(&rules, desc, sizeof(desc)));
		rules_reach(ctx, ctx->req->user_id, &rules, r);
		return CMD_OK;
	}
	if (contact_rules_get(ctx->store, ctx->org_id, ctx->req->user_id, &rules, &source) < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, "When you are paged (%s rules): %s, until you acknowledge.", source_names[source],
		    contact_rules_describe(&rules, desc, sizeof(desc)));
	rules_reach(ctx, ctx->req->user_id, &rules, r);
	reply_section(r, "Change them with `/oncall me notify chat now, sms after 2m, email after 5m`, or "
			 "follow the org's default with `/oncall me notify default`.");
	return CMD_OK;
}

enum cmd_result oncall_notify_default(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct contact_rules rules;
	enum contact_source source;
	char why[200], desc[160];
	bool builtin = argc == 1 && (strcasecmp(argv[0], "builtin") == 0 || strcasecmp(argv[0], "reset") == 0);

	if (!argc) {
		/* A member id that can't exist reads the org default alone. */
		if (contact_rules_get(ctx->store, ctx->org_id, "-", &rules, &source) < 0)
			return CMD_STORE_ERROR;
		reply_textf(r, "The org's default for people without their own rules (%s): %s.",
			    source == CONTACT_BUILTIN_DEFAULT ? "built in" : "set by an admin",
			    contact_rules_describe(&rules, desc, sizeof(desc)));
		return CMD_OK;
	}
	if (!builtin && contact_rules_parse(argc, argv, &rules, why, sizeof(why)) < 0) {
		reply_textf(r, "I did not change the default: %s.", why);
		return CMD_REFUSED;
	}
	if (contact_rules_set_default(ctx->store, ctx->org_id, ctx->req->user_id,
				      platform_name(ctx->req->platform), builtin ? NULL : &rules,
				      ctx->now_ms) < 0)
		return CMD_STORE_ERROR;
	if (builtin)
		contact_rules_decode(CONTACT_BUILTIN, &rules);
	reply_textf(r, "People without their own rules are now paged: %s, until they acknowledge.",
		    contact_rules_describe(&rules, desc, sizeof(desc)));
	return CMD_OK;
}

enum cmd_result oncall_page(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char who[64], id[24], plan[200], msg[600], shown[600], text[800], subject[200];
	struct member target, me;
	int got;

	if (oncall_parse_user(ctx, argv[0], who, sizeof(who), r) < 0)
		return CMD_REFUSED;
	got = member_get(ctx->store, ctx->org_id, who, &target);
	if (got < 0)
		return CMD_STORE_ERROR;
	if (got > 0 || target.placeholder) {
		char inv[80];
		reply_textf(r, "<@%s> is not a member here yet, so I can't page them. Invite them first "
			       "with `%s`.", who, dispatch_typed_name(ctx, "invite", inv, sizeof(inv)));
		return CMD_REFUSED;
	}
	(void)argc;	/* argv[1] is the rest of the line as typed (CMD_REST) */
	if (strlen(argv[1]) >= sizeof(msg)) {
		reply_textf(r, "That message is %zu bytes; a page holds at most %zu. Say it shorter.",
			    strlen(argv[1]), sizeof(msg) - 1);
		return CMD_REFUSED;
	}
	wk_strlcpy(msg, argv[1], sizeof(msg));
	reply_escape(shown, sizeof(shown), msg);
	/* Plain words, no mentions: the same text goes out by SMS and mail. */
	const char *from = member_get(ctx->store, ctx->org_id, ctx->req->user_id, &me) == 0 && me.name[0]
				   ? me.name
				   : ctx->req->user_name[0] ? ctx->req->user_name : ctx->req->user_id;
	char from_shown[160];
	reply_escape(from_shown, sizeof(from_shown), from);
	snprintf(text, sizeof(text), "%s paged you: %s", from_shown, shown);
	snprintf(subject, sizeof(subject), "Page from %s", from);
	struct page_message m = { .member = who, .kind = "page", .subject = subject, .text = text };
	got = page_send(ctx->store, ctx->cfg, ctx->org_id, &m, ctx->now_ms, id, sizeof(id), plan, sizeof(plan));
	if (got < 0)
		return CMD_STORE_ERROR;
	if (got > 0) {
		reply_textf(r, "I can't page <@%s>: %s. They can add a phone or email with `/oncall me`.", who,
			    plan);
		return CMD_REFUSED;
	}
	reply_textf(r, "Paging <@%s> (#%s): %s, until they acknowledge.", who, id + 1, plan);
	return CMD_OK;
}

enum cmd_result oncall_action_page_ack(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	enum page_ack_result res;

	r->replace_original = false;
	if (page_ack(ctx->store, ctx->org_id, value, ctx->req->user_id, "chat", ctx->now_ms, &res) < 0)
		return CMD_STORE_ERROR;
	switch (res) {
	case PAGE_ACKED: {
		/* A page for an incident acknowledges the incident: its escalation stops. */
		int64_t inc = page_incident(ctx->store, ctx->org_id, value);
		struct incident_change c = { .action = INC_ACK, .by = ctx->req->user_id, .via = "page" };
		struct incident_result ir;
		r->replace_original = true;
		if (inc > 0 && incident_change(ctx->store, ctx->org_id, inc, &c, ctx->now_ms, &ir) == 0 &&
		    ir.outcome == INC_DONE) {
			reply_textf(r, "You acknowledged INC-%lld; nobody else is paged for it.", (long long)inc);
			return CMD_OK;
		}
		reply_textf(r, "You acknowledged page #%s. Nothing more will be sent for it.", value + 1);
		return CMD_OK;
	}
	case PAGE_ALREADY:
		reply_textf(r, "Page #%s was already acknowledged.", value + 1);
		return CMD_OK;
	case PAGE_NOT_YOURS:
		reply_textf(r, "Page #%s was sent to someone else; only they can acknowledge it.", value + 1);
		return CMD_REFUSED;
	case PAGE_NOT_FOUND:
		break;
	}
	reply_textf(r, "There is no such page (pages are kept for a week).");
	return CMD_REFUSED;
}

/* ---- `/oncall me test` ----
 *
 * A test page over each of my channels, then what happened to each: people
 * must be able to check their setup before a real page. The handler only
 * queues the messages and answers; waiting for the outcome on a worker would
 * let a hung provider hold the pool. A durable timer (kind "me_test", so it
 * survives a restart and runs on one instance) looks at the notifications,
 * every ME_TEST_POLL_MS at first and backing off to ME_TEST_POLL_MAX_MS, and
 * posts the result to the command's response_url once every one is final, or
 * after ME_TEST_BOUND_MS with whatever is known then (saying what still runs).
 *
 * Timer id: me_test:<org>:<first notification id>. Payload, space-separated:
 * <bound ms> <admin 0|1> <platform> <id>:<channel>[,<id>:<channel>...] <response_url|->
 * (the URL last: it is the only long field). */

#define ME_TEST_POLL_MS 300
#define ME_TEST_POLL_MAX_MS 2000
#define ME_TEST_BOUND_MS 60000
#define ME_TEST_MAX 4
/* Test pages one person may have waiting for their outcome. Each keeps a timer
 * polling on the engine thread, which also runs everyone's handoffs and page
 * escalations: one person repeating `me test` must not load it without end. */
#define ME_TEST_MAX_PENDING 3

/* wk:{org}:me_test:<member>: zset of that member's pending me_test timer ids,
 * scored by their bound. Approximate under races (a check, then an add), which
 * is all a cap on test pages needs. 1 = room, 0 = full, -1 = store failure. */
static int me_test_room(struct cmd_ctx *ctx, int64_t now)
{
	char key[256], lo[24];
	redisReply *r;
	int rc = -1;

	if (org_key(key, sizeof(key), ctx->org_id, "me_test:%s", ctx->req->user_id) < 0)
		return -1;
	snprintf(lo, sizeof(lo), "%lld", (long long)now);
	r = store_command(ctx->store, "ZREMRANGEBYSCORE %s -inf %s", key, lo);
	if (r && r->type != REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		r = store_command(ctx->store, "ZCARD %s", key);
		if (r && r->type == REDIS_REPLY_INTEGER)
			rc = r->integer < ME_TEST_MAX_PENDING;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Note (or, with add false, forget) one pending test timer of the member. */
static int me_test_pending(struct store *st, const char *org_id, const char *member, const char *timer_id,
			   int64_t bound, bool add)
{
	char key[256], score[24];
	redisReply *r;
	int rc;

	if (org_key(key, sizeof(key), org_id, "me_test:%s", member) < 0)
		return -1;
	snprintf(score, sizeof(score), "%lld", (long long)bound);
	r = add ? store_command(st, "ZADD %s %s %s", key, score, timer_id)
		: store_command(st, "ZREM %s %s", key, timer_id);
	rc = r && r->type != REDIS_REPLY_ERROR ? 0 : -1;
	if (r)
		freeReplyObject(r);
	if (rc == 0 && add) {
		r = store_command(st, "PEXPIRE %s %lld", key, (long long)ME_TEST_BOUND_MS * 2);
		if (r)
			freeReplyObject(r);
	}
	return rc;
}

static bool status_final(const char *status)
{
	static const char *const final[] = { "sent", "delivered", "failed", "cancelled", "shown" };

	for (size_t i = 0; i < ARRAY_LEN(final); i++)
		if (strcmp(status, final[i]) == 0)
			return true;
	return false;
}

enum cmd_result oncall_me_test(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char chans[64], ids[ME_TEST_MAX][24], name[ME_TEST_MAX][16], timer_id[TIMER_ID_MAX];
	char payload[TIMER_PAYLOAD_MAX];
	struct buf list = BUF_INIT(256), shown = BUF_INIT(256);
	size_t n = 0;
	int64_t now = engine_now_ms();
	enum cmd_result res = CMD_OK;
	bool previewed = false;

	(void)argc;
	(void)argv;
	if (outbox_channels_for(ctx->store, ctx->cfg, ctx->org_id, ctx->req->user_id, chans, sizeof(chans)) < 0)
		return CMD_STORE_ERROR;
	if (!chans[0]) {
		reply_textf(r, "Watchkeeper has no way to reach you yet. Add an email with `/oncall me email "
			       "ADDRESS` (and ask the operator to set up SMTP), or a phone with `/oncall me phone "
			       "+E164`.");
		return CMD_OK;
	}
	int room = me_test_room(ctx, now);
	if (room < 0)
		return CMD_STORE_ERROR;
	if (!room) {
		reply_textf(r, "You have %d test pages on their way already; their results follow. Try again "
			       "once they are in.", ME_TEST_MAX_PENDING);
		return CMD_REFUSED;
	}
	for (char *save = NULL, *c = strtok_r(chans, ",", &save); c && n < ME_TEST_MAX; c = strtok_r(NULL, ",", &save)) {
		struct outbox_message m = { .member = ctx->req->user_id, .channel = c, .kind = "test",
					    .subject = "Watchkeeper test page",
					    .text = "This is a test page from Watchkeeper. Nothing is wrong; "
						    "you can reach this channel." };
		if (outbox_enqueue(ctx->store, ctx->org_id, &m, ctx->now_ms, ids[n], sizeof(ids[n])) < 0)
			return CMD_STORE_ERROR;
		wk_strlcpy(name[n], c, sizeof(name[0]));
		previewed |= outbox_previewed(ctx->cfg, c);
		buf_printf(&list, "%s%s:%s", n ? "," : "", ids[n], name[n]);
		buf_printf(&shown, "%s%s (`%s`)", n ? ", " : "", name[n], ids[n]);
		n++;
	}
	snprintf(timer_id, sizeof(timer_id), "me_test:%s:%s", ctx->org_id, ids[0]);
	if ((size_t)snprintf(payload, sizeof(payload), "%lld %d %s %s %s", (long long)(now + ME_TEST_BOUND_MS),
			     ctx->role >= ROLE_ADMIN, platform_name(ctx->req->platform), buf_cstr(&list),
			     ctx->req->response_url[0] ? ctx->req->response_url : "-") >= sizeof(payload)) {
		/* Only an absurdly long response_url gets here: no follow-up then. */
		reply_textf(r, "Test page sent over %s. `/oncall notifications` shows what happened.",
			    buf_cstr(&shown));
		goto out;
	}
	if (me_test_pending(ctx->store, ctx->org_id, ctx->req->user_id, timer_id, now + ME_TEST_BOUND_MS, true) < 0 ||
	    timer_schedule(ctx->store, timer_id, "me_test", ctx->org_id, payload, now + ME_TEST_POLL_MS) < 0) {
		res = CMD_STORE_ERROR;
		goto out;
	}
	if (previewed)	/* the console: say so rather than pretend a delivery */
		reply_textf(r, "Showing a test page for %s here in the console (what is not configured is "
			       "not sent); the results follow in a moment.", buf_cstr(&shown));
	else
		reply_textf(r, "Sent a test page over %s; the results follow in a moment.", buf_cstr(&shown));
out:
	buf_free(&list);
	buf_free(&shown);
	return res;
}

/* What happened to each test page, as the reply the user sees. */
static void me_test_report(struct engine_ctx *ctx, bool admin, size_t n, char ids[][24], char name[][16],
			   const struct outbox_status *st, struct reply *r)
{
	struct buf b = BUF_INIT(2048);

	(void)ctx;
	reply_textf(r, "Test page over %zu channel%s:", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		char err[180];
		if (strcmp(st[i].status, "shown") == 0) {	/* the console's preview: nothing went out */
			buf_printf(&b, "• %s: %s (`%s`)\n", name[i], reply_escape(err, sizeof(err), st[i].error),
				   ids[i]);
			continue;
		}
		buf_printf(&b, "• %s: *%s*%s%s (`%s`)", name[i], st[i].status, st[i].error[0] ? ": " : "",
			   st[i].error[0] ? reply_escape(err, sizeof(err), st[i].error) : "", ids[i]);
		/* SMS has a second step: the carrier's delivery report, which comes later. */
		if (st[i].provider_status[0])
			buf_printf(&b, ", Twilio says *%s*", st[i].provider_status);
		else if (strcmp(name[i], "sms") == 0 && strcmp(st[i].status, "sent") == 0 && admin)
			buf_printf(&b, "; the delivery report shows in `/oncall notifications %s`", ids[i]);
		else if (strcmp(name[i], "sms") == 0 && strcmp(st[i].status, "sent") == 0)
			buf_adds(&b, "; the carrier's delivery report comes later");
		else if (!status_final(st[i].status))
			buf_printf(&b, "; still trying: `/oncall notifications %s` shows what happens next", ids[i]);
		buf_adds(&b, "\n");
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

/* Post the result where the command came from: its response_url (rendered
 * for the platform), else a chat message to the member. */
static int me_test_deliver(struct engine_ctx *ctx, const char *platform, const char *member,
			   const char *response_url, const struct reply *r)
{
	const struct adapter_ops *a = adapter_named(platform);

	if (strcmp(response_url, "-") != 0 && a && adapter_post_late(a->platform, response_url, r) == 0)
		return 0;
	const char *chat = outbox_chat_channel(platform);
	if (!chat)
		return 0;	/* the console: `/oncall notifications` shows it */
	struct buf text = BUF_INIT(8192);
	notify_flatten(r, &text);
	struct outbox_message m = { .member = member, .channel = chat, .kind = "test_result",
				    .subject = "Watchkeeper test page results", .text = buf_cstr(&text),
				    .dedupe = ctx->timer->id };
	char id[24];
	int rc = outbox_enqueue(ctx->store, ctx->timer->org, &m, ctx->now_ms, id, sizeof(id));
	buf_free(&text);
	return rc < 0 ? -1 : 0;
}

int oncall_me_test_fire(struct engine_ctx *ctx)
{
	char payload[TIMER_PAYLOAD_MAX], ids[ME_TEST_MAX][24], name[ME_TEST_MAX][16], member[64] = "";
	char *save = NULL, *bound_s, *admin_s, *platform, *list, *url;
	struct outbox_status st[ME_TEST_MAX];
	int64_t bound;
	size_t n = 0;
	bool pending = false;
	struct reply r;
	int rc;

	wk_strlcpy(payload, ctx->timer->payload, sizeof(payload));
	bound_s = strtok_r(payload, " ", &save);
	admin_s = strtok_r(NULL, " ", &save);
	platform = strtok_r(NULL, " ", &save);
	list = strtok_r(NULL, " ", &save);
	url = strtok_r(NULL, "", &save);
	if (!bound_s || !admin_s || !platform || !list || !url || !wk_parse_i64(bound_s, 0, INT64_MAX, &bound))
		return 0;	/* not ours to understand: drop it */
	for (char *s2 = NULL, *item = strtok_r(list, ",", &s2); item && n < ME_TEST_MAX;
	     item = strtok_r(NULL, ",", &s2)) {
		char *colon = strchr(item, ':');
		if (!colon)
			return 0;
		*colon = '\0';
		wk_strlcpy(ids[n], item, sizeof(ids[0]));
		wk_strlcpy(name[n], colon + 1, sizeof(name[0]));
		int got = outbox_get(ctx->store, ctx->timer->org, ids[n], &st[n]);
		if (got < 0)
			return -1;
		if (got > 0) {
			memset(&st[n], 0, sizeof(st[n]));
			wk_strlcpy(st[n].status, "expired", sizeof(st[n].status));
		} else if (!status_final(st[n].status)) {
			pending = true;
		}
		if (!member[0] && got == 0)
			wk_strlcpy(member, st[n].member, sizeof(member));
		n++;
	}
	if (pending && ctx->now_ms < bound) {
		/* Often at first (most outcomes come within a second), then less. */
		int64_t wait = (ctx->now_ms - (bound - ME_TEST_BOUND_MS)) / 4;
		ctx->rearm_ms = ctx->now_ms + (wait < ME_TEST_POLL_MS ? ME_TEST_POLL_MS
					       : wait > ME_TEST_POLL_MAX_MS ? ME_TEST_POLL_MAX_MS : wait);
		return 0;
	}
	reply_init(&r);
	me_test_report(ctx, strcmp(admin_s, "1") == 0, n, ids, name, st, &r);
	rc = member[0] ? me_test_deliver(ctx, platform, member, url, &r) : 0;
	reply_free(&r);
	if (rc == 0 && member[0])
		me_test_pending(ctx->store, ctx->timer->org, member, ctx->timer->id, 0, false);	/* else it expires */
	return rc;
}

/* One notification and everything that happened to it. */
static enum cmd_result notification_detail(struct cmd_ctx *ctx, const char *typed, struct reply *r)
{
	char id[24], err[180], shown[40], queued[64];
	struct outbox_status st;
	struct outbox_event *ev;
	size_t n;
	struct buf b = BUF_INIT(32 * 1024);
	int got;

	wk_strlcpy(id, typed, sizeof(id));
	id[0] = 'n';
	got = outbox_get(ctx->store, ctx->org_id, id, &st);
	if (got < 0)
		return CMD_STORE_ERROR;
	if (got > 0) {
		reply_textf(r, "There is no notification `%s` (they are kept for a week).",
			    reply_escape(shown, sizeof(shown), typed));
		return CMD_REFUSED;
	}
	if (outbox_history(ctx->store, ctx->org_id, id, &ev, &n) < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, "`%s` %s to <@%s> by %s, queued %s: *%s*%s%s%s", st.id, st.kind, st.member, st.channel,
		    when_format(when_zone(ctx->tz, ctx->cfg->rotation.zone), st.created_ms / 1000, queued,
				sizeof(queued)),
		    st.status, st.provider_id[0] ? " (provider id `" : "", st.provider_id,
		    st.provider_id[0] ? "`)" : "");
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "• %lld.%03lld s: %s%s", (long long)((ev[i].ts_ms - st.created_ms) / 1000),
			   (long long)((ev[i].ts_ms - st.created_ms) % 1000), ev[i].provider_id[0] ? "provider: " : "",
			   ev[i].status);
		if (ev[i].attempt)
			buf_printf(&b, " (attempt %lld)", (long long)ev[i].attempt);
		if (ev[i].error[0])
			buf_printf(&b, ": %s", reply_escape(err, sizeof(err), ev[i].error));
		buf_adds(&b, "\n");
	}
	if (n)
		reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	free(ev);
	return CMD_OK;
}

enum cmd_result oncall_notifications(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct outbox_status *list;
	size_t n;
	int64_t want = 10;
	struct buf b = BUF_INIT(32 * 1024);

	if (argc && (argv[0][0] == 'n' || argv[0][0] == 'N'))
		return notification_detail(ctx, argv[0], r);
	if (argc && !wk_parse_i64(argv[0], 1, 50, &want)) {
		reply_textf(r, "`/oncall notifications N` shows the last N, 1 to 50; "
			       "`/oncall notifications n12` the history of one.");
		return CMD_REFUSED;
	}
	if (outbox_recent(ctx->store, ctx->org_id, (size_t)want, &list, &n) < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, n ? "The last %zu notifications:" : "No notifications yet.", n);
	for (size_t i = 0; i < n; i++) {
		char err[180];
		buf_printf(&b, "`%s` %s to <@%s> by %s: *%s*%s%s%s, %lld attempt%s%s%s\n", list[i].id,
			   list[i].kind, list[i].member, list[i].channel, list[i].status,
			   list[i].provider_status[0] ? " (provider: " : "", list[i].provider_status,
			   list[i].provider_status[0] ? ")" : "", (long long)list[i].attempts,
			   list[i].attempts == 1 ? "" : "s", list[i].error[0] ? ": " : "",
			   list[i].error[0] ? reply_escape(err, sizeof(err), list[i].error) : "");
	}
	if (n)
		reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	free(list);
	return CMD_OK;
}

