/* feeds_int.h - what feeds.c (serving feeds and exports) and feeds_cmd.c (the
 * chat commands that hand them out) share; not for other modules. */
#ifndef WK_FEEDS_INT_H
#define WK_FEEDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "bot/config.h"
#include "bot/crypto.h"
#include "bot/feeds.h"
#include "bot/schedule.h"

#define MAX_TEAMS 64	/* teams a member feed looks through, and feeds one member gets */
#define FIELD_SIZE (SCHEDULE_MEMBER_LEN + 8)	/* "member" or "team:<id>" */
#define SHA_HEX CRYPTO_SHA256_HEX_SIZE

/* A fresh token and its hash. -1 when the RNG fails. */
int feeds_token_new(char token[FEEDS_TOKEN_HEX + 1], char sha[SHA_HEX]);
/* public_url without a trailing slash, so "<base>/ical/..." has one slash. */
void feeds_base_url(const struct config *cfg, char *out, size_t size);
bool feeds_reply_is_string(const redisReply *r);
/* The zone of the team's first rotation by priority (its version in force at
 * `at`, else its first), or the configured one. */
const char *feeds_team_zone(const struct team_plan *p, int64_t at, const struct config *cfg);

#endif
