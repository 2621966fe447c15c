/* notify.c - see notify.h */
#include "bot/notify.h"
#include "bot/buf.h"
#include "bot/log.h"
#include "bot/member.h"
#include "bot/outbox.h"
#include "bot/util.h"

#include <string.h>

void notify_flatten(const struct reply *r, struct buf *out)
{
	buf_adds(out, buf_cstr(&r->text));
	for (size_t i = 0; i < r->nsections; i++) {
		const struct reply_section *sec = &r->sections[i];
		if (sec->text)
			buf_printf(out, "\n%s", sec->text);
		for (size_t f = 0; f < sec->nfields; f++)
			buf_printf(out, "\n*%s:* %s", sec->fields[f].label, sec->fields[f].value);
	}
}

int notify_member(struct store *s, const struct config *cfg, const char *org_id,
		  const char *member_id, const char *kind, const struct reply *r, const char *dedupe)
{
	struct member m;
	struct buf text = BUF_INIT(8192);
	char buttons[OUTBOX_BUTTONS_MAX], id[24];
	const char *channel;
	int rc;

	(void)cfg;
	rc = member_get(s, org_id, member_id, &m);
	if (rc != 0 || m.placeholder)
		return rc < 0 ? -1 : 1;
	if (!(channel = outbox_chat_channel(m.platform))) {
		log_debug("notify.skip", "org=%s member=%s platform=%s", org_id, member_id, m.platform);
		return 1;
	}
	notify_flatten(r, &text);
	if (outbox_buttons_encode(r, buttons, sizeof(buttons)) < 0)
		log_warn("notify.buttons", "org=%s member=%s reason=\"too many to carry; sent without\"",
			 org_id, member_id);
	struct outbox_message msg = { .member = member_id, .channel = channel, .kind = kind,
				      .text = buf_cstr(&text), .dedupe = dedupe, .buttons = buttons };
	rc = outbox_enqueue(s, org_id, &msg, wk_now_ms(), id, sizeof(id));
	buf_free(&text);
	if (rc < 0) {
		log_warn("notify.failed", "org=%s member=%s reason=store", org_id, member_id);
		return -1;
	}
	return 0;
}
