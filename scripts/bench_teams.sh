#!/usr/bin/env bash
# bench_teams.sh - run by `make bench` after bench.sh: the Teams hot path against Slack's in
# the same run. One release daemon with both platforms on, a private Redis, and two fakes:
#   build/fake_connector   the Bot Connector (every reply is a separate outbound POST to
#                          {serviceUrl}v3/conversations/{id}/activities/{id}, answered 201 and
#                          counted) and the bot's token endpoint (WK_TEAMS_TOKEN_URL)
#   scripts/bench_teams_idp.py  the tests' FakeTeamsIdentity (OpenID metadata + JWK set,
#                          fetched once at startup) and one inbound token minted for
#                          serviceurl = the fake connector, valid 2 hours
# Seeding: each platform's org gets a one-person rotation through the product's own path
# (`/oncall join` on Slack, `oncall join` on Teams), so both then run the same command,
# `oncall` (the status of that rotation), with comparable work: Slack's answer is the HTTP
# response; Teams answers 200 at once and posts the card to the fake connector.
# At c=64 (after a warm-up of each), WK_BENCH_ROUNDS rounds of Slack /oncall
# (scripts/bench_oncall.lua, each request signed) and Teams `oncall`
# (scripts/bench_teams.lua, every request's token checked, a fresh activity id each) in turn;
# medians. Per platform: req/s, p99, daemon CPU µs/request (/proc/PID/stat, measured until
# the Teams replies have all reached the fake connector), Redis CPU µs/request; for Teams the
# replies the connector received per activity (must be ~1.0); then Teams÷Slack for req/s
# (target >= 0.50) and p99 (Teams p99 at most twice Slack's: Teams÷Slack <= 2.00), each the
# median of the per-round ratios; and the CPU split: the total Teams CPU/request, Teams minus
# Slack, and jwt_us (build/bench_jwt: one RS256 verification on a cached key; the daemon
# remembers a verified token, and the Connector, like this bench, reuses one for an hour). Lines start `teams:`. Logs and wrk output: build/bench/.
# Environment: WK_BENCH_DURATION (default 10s), WK_BENCH_ROUNDS (default 3),
# WK_BENCH_CONNS (default 64), WK_BENCH_WARMUP (default 3s), WK_BENCH_NOWAIT=1 (don't wait
# for scripts/test.sh), WK_BENCH_PERF=FILE (perf record the daemon over the first Teams
# round into FILE; WK_BENCH_PERF_OPTS, default "-F 4000 -g"; perf inflates that round's CPU,
# and prints the samples per daemon thread with their libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_common.sh   # BIN, CONFIG, DIR

FAKE=build/fake_connector
JWT=build/bench_jwt
DURATION=${WK_BENCH_DURATION:-10s}
WARMUP=${WK_BENCH_WARMUP:-3s}
C=${WK_BENCH_CONNS:-64}
ROUNDS=${WK_BENCH_ROUNDS:-3}
PY=/usr/bin/python3
SECRET=bench_signing_secret_not_real
TEAM=T0BENCHTEAMS

for f in "$BIN" "$FAKE" "$JWT"; do
	[ -x "$f" ] || { echo "bench_teams.sh: $f not built (make all build/fake_connector build/bench_jwt)" >&2; exit 1; }
done
[ -f "$CONFIG" ] || { echo "bench_teams.sh: no config file $CONFIG" >&2; exit 1; }
mkdir -p "$DIR"
RDIR=$(mktemp -d /tmp/wk-bench-teams-XXXXXX)

daemon_pid=
fake_pid=
idp_pid=
perf_pid=
cleanup() {
	[ -z "$perf_pid" ] || { kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; }
	bench_stop "${DAEMON_PID:-}" "$idp_pid" "$fake_pid"
	scripts/redis.sh stop "$RDIR" >/dev/null 2>&1 || true
	rm -rf "$RDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_wait_idle
# The verification cost alone, before anything else runs.
jwt_line=$("$JWT" 20000)
jwt_us=$(awk '{print $2}' <<<"$jwt_line")

redis_url=$(scripts/redis.sh start "$RDIR")
rsock=$RDIR/redis.sock

bench_start_fake "$RDIR/fake.out" "$DIR/fake_connector.log" "$FAKE" 0
fake_pid=$FAKE_PID
fake=http://127.0.0.1:$FAKE_PORT
service_url=$fake/

"$PY" scripts/bench_teams_idp.py "$service_url" >"$RDIR/idp.out" 2>"$DIR/teams_idp.log" &
idp_pid=$!
for _ in $(seq 1 200); do grep -qx READY "$RDIR/idp.out" 2>/dev/null && break; sleep 0.05; done
grep -qx READY "$RDIR/idp.out" || { echo "bench_teams.sh: the fake identity did not start:" >&2; cat "$DIR/teams_idp.log" >&2; exit 1; }
idp_env() { sed -n "s/^$1=//p" "$RDIR/idp.out"; }
app_id=$(idp_env WK_TEAMS_APP_ID)
tenant=$(idp_env WK_TEAMS_TENANT_ID)
token=$(idp_env TOKEN)

bench_start_daemon "$redis_url" "$SECRET" "$DIR/daemon-teams.log" \
	WK_TEAMS_APP_ID="$app_id" WK_TEAMS_APP_PASSWORD="$(idp_env WK_TEAMS_APP_PASSWORD)" \
	WK_TEAMS_TENANT_ID="$tenant" WK_TEAMS_OPENID_URL="$(idp_env WK_TEAMS_OPENID_URL)" \
	WK_TEAMS_ISSUER="$(idp_env WK_TEAMS_ISSUER)" \
	WK_TEAMS_TOKEN_URL="$fake/$tenant/oauth2/v2.0/token"
daemon_pid=$DAEMON_PID base=$BASE

export WK_BENCH_TEAMS_TOKEN=$token WK_BENCH_TEAMS_SERVICE_URL=$service_url
export WK_BENCH_TEAMS_TENANT=$tenant WK_BENCH_TEAMS_APP_ID=$app_id

# teams_post TEXT ID: one personal message activity with the bench token, print the status
teams_post() {
	local body
	body=$("$PY" - "$1" "$2" <<'PY'
import json, os, sys
text, aid = sys.argv[1:3]
tenant = os.environ["WK_BENCH_TEAMS_TENANT"]
print(json.dumps({"type": "message", "id": aid, "timestamp": "2026-12-05T12:00:00.000Z", "channelId": "msteams",
    "serviceUrl": os.environ["WK_BENCH_TEAMS_SERVICE_URL"],
    "from": {"id": "29:1benchUserId", "name": "Bench User", "aadObjectId": "00000000-0000-0000-0000-0000000be0a1"},
    "conversation": {"id": "a:1benchConversationId", "conversationType": "personal", "tenantId": tenant},
    "recipient": {"id": "28:" + os.environ["WK_BENCH_TEAMS_APP_ID"], "name": "OnCall Bot"},
    "text": text, "textFormat": "plain", "locale": "en-US", "channelData": {"tenant": {"id": tenant}}}))
PY
)
	curl -sS -o "$DIR/last_teams_reply.txt" -w '%{http_code}' --max-time 5 -X POST \
		-H 'Content-Type: application/json; charset=utf-8' -H "Authorization: Bearer $token" \
		--data-binary "$body" "$base/teams/messages"
}

# replies: the activities the fake connector has received so far
replies() { curl -fsS --max-time 2 "$fake/count" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["activities"])'; }

# wait_replies N: until the connector has N replies (or 15 s without progress); prints the count
wait_replies() {
	local want=$1 n last=-1 still=0
	while :; do
		n=$(replies)
		[ "$n" -ge "$want" ] && break
		if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0; fi
		[ "$still" -ge 150 ] && break
		last=$n
		sleep 0.1
	done
	echo "$n"
}

# Seed: the Teams keys must be loaded first (503 until then), then one join on each platform.
code=
for _ in $(seq 1 100); do
	code=$(teams_post "oncall join" "seed1") || true
	[ "$code" = 503 ] || break
	sleep 0.1
done
[ "$code" = 200 ] || { echo "bench_teams.sh: Teams 'oncall join' answered $code: $(cat "$DIR/last_teams_reply.txt")" >&2; exit 1; }
[ "$(wait_replies 1)" -ge 1 ] || { echo "bench_teams.sh: no Teams reply reached the fake connector; log:" >&2; tail -n 20 "$DIR/daemon-teams.log" >&2; exit 1; }
bench_slack_sign "$SECRET" "$TEAM" U0BENCH1 join
code=$(bench_slack_post "$base")
[ "$code" = 200 ] || { echo "bench_teams.sh: Slack /oncall join answered $code: $(cat "$DIR/last_reply.json")" >&2; exit 1; }

for _ in $(seq 1 50); do   # the Teams command runs on a worker after the 200
	[ "$(bench_rotation_members "$rsock" "teams:$tenant")" = 1 ] && [ "$(bench_rotation_members "$rsock" "slack:$TEAM")" = 1 ] && break
	sleep 0.1
done
for org in "slack:$TEAM" "teams:$tenant"; do
	m=$(bench_rotation_members "$rsock" "$org")
	[ "$m" = 1 ] || { echo "bench_teams.sh: $org's rotation has $m members after seeding, want 1" >&2; exit 1; }
done

bench_slack_sign "$SECRET" "$TEAM" U0BENCH1 ""
code=$(bench_slack_post "$base")
[ "$code" = 200 ] || { echo "bench_teams.sh: /oncall answered $code: $(cat "$DIR/last_reply.json")" >&2; exit 1; }
echo "sample Slack reply: $(head -c 200 "$DIR/last_reply.json")"
before=$(replies)
code=$(teams_post oncall "seed2")
[ "$code" = 200 ] || { echo "bench_teams.sh: Teams oncall answered $code" >&2; exit 1; }
[ "$(wait_replies $((before + 1)))" -gt "$before" ] || { echo "bench_teams.sh: the Teams oncall got no reply" >&2; exit 1; }
teams_text=$(curl -fsS --max-time 2 "$fake/last" | "$PY" -c '
import json, sys
def texts(n):
    if isinstance(n, dict):
        if n.get("type") == "TextBlock" and isinstance(n.get("text"), str):
            yield n["text"]
        for v in n.values():
            yield from texts(v)
    elif isinstance(n, list):
        for v in n:
            yield from texts(v)
a = json.load(sys.stdin)
print(" | ".join(([a["text"]] if a.get("text") else []) + list(texts(a.get("attachments")))).replace("\n", " "))')
echo "sample Teams reply (card text): ${teams_text:0:200}"
grep -qi "on call now" <<<"$teams_text" || { echo "bench_teams.sh: the Teams reply is not the rotation's status" >&2; exit 1; }

clk_tck=$(getconf CLK_TCK)
declare -A RPS P99 CPU RCPU RPA
bad=0
run_no=0

# measure PLATFORM KEY [warmup]: one wrk run at c=$C with the daemon's CPU and Redis's CPU per
# request; for Teams, waits until the fake connector has a reply for every answered activity
# (so the CPU includes the reply posts) and records replies per activity.
measure() {
	local plat=$1 key=$2 warm=${3:-} t0 t1 r0 r1 c0 c1 lua url dur=$DURATION
	run_no=$((run_no + 1))
	if [ "$plat" = slack ]; then
		bench_slack_sign "$SECRET" "$TEAM" U0BENCH1 ""
		lua=scripts/bench_oncall.lua url=$base/slack/commands
	else
		export WK_BENCH_TEAMS_RUN=$(( $(date +%s) % 100000 ))$run_no
		lua=scripts/bench_teams.lua url=$base/teams/messages
	fi
	[ -z "$warm" ] || dur=$WARMUP
	c0=$(replies)
	t0=$(bench_cpu_ticks "$daemon_pid"); r0=$(bench_redis_stats "$rsock")
	if [ -n "${WK_BENCH_PERF:-}" ] && [ -z "$warm" ] && [ "$plat" = teams ] && [ ! -e "$RDIR/perf.done" ]; then
		perf record ${WK_BENCH_PERF_OPTS:--F 4000 -g} -p "$daemon_pid" -o "$WK_BENCH_PERF" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	DURATION=$dur bench_wrk "$C" "$url" "$lua" "$DIR/wrk-$plat-c$C${warm:+-warmup}.txt"
	if [ "$plat" = teams ]; then
		c1=$(wait_replies $((c0 + W_REQS)))
	else
		c1=$(replies)
	fi
	if [ -n "$perf_pid" ]; then
		kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; perf_pid=
		touch "$RDIR/perf.done"
	fi
	t1=$(bench_cpu_ticks "$daemon_pid"); r1=$(bench_redis_stats "$rsock")
	[ "$W_BAD" = 0 ] || { bad=1; echo "bench_teams.sh: $plat: $W_BAD non-2xx or socket errors" >&2; }
	kill -0 "$daemon_pid" 2>/dev/null || { echo "bench_teams.sh: the daemon died during the run" >&2; exit 1; }
	[ -z "$warm" ] || return 0
	RPS[$key]=$W_RPS
	P99[$key]=$W_P99
	read -r CPU[$key] RCPU[$key] RPA[$key] < <(awk -v t0="$t0" -v t1="$t1" -v hz="$clk_tck" \
		-v n="$W_REQS" -v r0="$r0" -v r1="$r1" -v c0="$c0" -v c1="$c1" 'BEGIN {
		split(r0, a, " "); split(r1, b, " "); n = (n > 0 ? n : 1)
		printf "%.1f %.1f %.3f\n", (t1 - t0) * 1e6 / hz / n, (b[1] - a[1]) * 1e6 / n, (c1 - c0) / n }')
}


bench_wait_idle
measure slack w warmup
measure teams w warmup
for r in $(seq 1 "$ROUNDS"); do
	measure slack "slack,$r"
	measure teams "teams,$r"
done
for p in slack teams; do
	for fig in RPS P99 CPU RCPU RPA; do bench_median_rounds "$fig" "$p" "$ROUNDS"; done
done
ratio_median() {
	local fig=$1 r vals=()
	declare -n arr=$fig
	for r in $(seq 1 "$ROUNDS"); do vals+=("$(ratio "${arr[teams,$r]}" "${arr[slack,$r]}")"); done
	median "${vals[@]}"
}
per_round() {
	local fig=$1 r out=""
	declare -n arr=$fig
	for r in $(seq 1 "$ROUNDS"); do out+=" $(ratio "${arr[teams,$r]}" "${arr[slack,$r]}")"; done
	echo "${out# }"
}
r_rps=$(printf '%.2f' "$(ratio_median RPS)")
r_p99=$(printf '%.2f' "$(ratio_median P99)")
r_cpu=$(printf '%.2f' "$(ratio_median CPU)")
RPA[teams]=$(printf '%.3f' "${RPA[teams]}")
rest=$(awk -v t="${CPU[teams]}" -v j="$jwt_us" 'BEGIN {printf "%.1f", t - j}')
delta=$(awk -v t="${CPU[teams]}" -v s="${CPU[slack]}" 'BEGIN {printf "%.1f", t - s}')

echo
echo "teams: \`oncall\` on a one-person rotation, Slack (signed) vs Teams (RS256 JWT + reply POST to a fake connector), c=$C, $DURATION per run, median of $ROUNDS rounds"
printf 'teams: %-8s %9s %8s %8s %8s %12s\n' platform req/s p99_ms cpu_us rds_us replies/act
for p in slack teams; do
	rpa=-; [ "$p" = teams ] && rpa=${RPA[teams]}
	printf 'teams: %-8s %9.1f %8.2f %8.1f %8.1f %12s\n' "$p" "${RPS[$p]}" "${P99[$p]}" "${CPU[$p]}" "${RCPU[$p]}" "$rpa"
done
echo "teams: Teams/Slack req/s $r_rps ($(verdict "$r_rps" ">=" 0.50)), p99 $r_p99 ($(verdict "$r_p99" "<=" 2.00), i.e. Slack/Teams >= 0.50), daemon CPU/req $r_cpu"
echo "teams: per round Teams/Slack: req/s $(per_round RPS); p99 $(per_round P99)"
echo "teams: replies per activity ${RPA[teams]} ($(verdict "${RPA[teams]}" ">=" 0.99))"
echo "teams: CPU split per Teams request: total $(printf "%.1f" "${CPU[teams]}") us; Teams - Slack $delta us. One RS256 verification costs $jwt_us us (build/bench_jwt); the wrk script reuses one token, as the Bot Connector does for an hour, so after the first request the daemon's remembered verification (adapters/teams_auth.h) costs one SHA-256 of it instead; the rest is dispatch, the card and the reply's POST (about $rest us if every request verified)"
echo "teams: $jwt_line"
if [ -n "${WK_BENCH_PERF:-}" ] && [ -s "$WK_BENCH_PERF" ]; then
	echo "teams: perf profile of the first Teams round: $WK_BENCH_PERF (perf report -i $WK_BENCH_PERF)"
	# Samples per daemon thread (over 5 %), each with its libraries over 0.5 % of all samples:
	# libcrypto marks the libwebsockets loop (the JWT check), libcurl the courier (the reply
	# POST), hiredis the workers (the command).
	perf script -i "$WK_BENCH_PERF" -F tid,ip,dso -G 2>/dev/null | awk '{
		d = $NF; gsub(/[()]/, "", d); n = split(d, a, "/"); c[$1 " " a[n]]++; t[$1]++; T++ }
		END { if (!T) exit
		for (x in t) if (t[x] / T > 0.05) {
			line = sprintf("teams: perf thread %s %.1f%%:", x, 100 * t[x] / T)
			for (k in c) { split(k, b, " "); if (b[1] == x && c[k] / T > 0.005) line = line sprintf(" %s %.1f%%", b[2], 100 * c[k] / T) }
			print line } }' | sort -t' ' -k5,5gr || true
fi
if [ "$bad" -ne 0 ]; then
	echo "bench_teams.sh: some responses were not 2xx or sockets failed (see $DIR/wrk-*.txt, $DIR/daemon-teams.log)" >&2
	exit 1
fi
awk -v r="${RPA[teams]}" 'BEGIN {exit !(r >= 0.99)}' || { echo "bench_teams.sh: not every activity was answered at the connector" >&2; exit 1; }
