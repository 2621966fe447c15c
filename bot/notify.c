/* notify.c - see notify.h */
#include "bot/notify.h"
#include "adapters/slack_api.h"
#include "bot/log.h"
#include "bot/member.h"

#include <string.h>

int notify_member(struct store *s, const struct config *cfg, const char *org_id,
		  const char *member_id, const struct reply *r)
{
	struct member m;
	char why[200], q[240];
	int rc;

	if (member_get(s, org_id, member_id, &m) != 0 || m.placeholder)
		return 1;
	if (strcmp(m.platform, "slack") != 0) {
		log_debug("notify.skip", "org=%s member=%s platform=%s", org_id, member_id, m.platform);
		return 1;
	}
	rc = slack_dm_reply(cfg, s, org_id, member_id, r, NULL, why, sizeof(why));
	if (rc != 0)
		log_warn("notify.failed", "org=%s member=%s why=%s", org_id, member_id,
			 log_quote(q, sizeof(q), why));
	return rc == 0 ? 0 : -1;
}
