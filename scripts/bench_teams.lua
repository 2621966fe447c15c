-- bench_teams.lua - wrk script for scripts/bench_teams.sh: every request is a Teams personal
-- message activity `oncall` (the shape of teams.md 2.1's personal message fixture) POSTed to
-- /teams/messages with the one bearer token bench_teams.sh minted (RS256, serviceurl = the
-- fake connector), which the daemon verifies in full on every request. The daemon drops a
-- repeated conversation + activity id as a replay, so each request gets its own activity id:
-- the run's prefix (WK_BENCH_TEAMS_RUN, distinct per wrk run), the thread and a counter.
-- Environment (set by bench_teams.sh): WK_BENCH_TEAMS_TOKEN, WK_BENCH_TEAMS_SERVICE_URL,
-- WK_BENCH_TEAMS_TENANT, WK_BENCH_TEAMS_APP_ID, WK_BENCH_TEAMS_RUN.

-- bench_wrk.lua (next to this file): getenv, and setup() numbering the threads as `tid`.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "bench_wrk.lua")
local token, surl, tenant, app, run = bench.getenv({ "WK_BENCH_TEAMS_TOKEN",
	"WK_BENCH_TEAMS_SERVICE_URL", "WK_BENCH_TEAMS_TENANT", "WK_BENCH_TEAMS_APP_ID",
	"WK_BENCH_TEAMS_RUN" }, "scripts/bench_teams.sh")

-- Everything but the id is the same for every request: split the body around it once.
local head = '{"type":"message","id":"'
local tail = '","timestamp":"2026-12-05T12:00:00.000Z","channelId":"msteams",' ..
	'"serviceUrl":"' .. surl .. '",' ..
	'"from":{"id":"29:1benchUserId","name":"Bench User","aadObjectId":"00000000-0000-0000-0000-0000000be0a1"},' ..
	'"conversation":{"id":"a:1benchConversationId","conversationType":"personal","tenantId":"' .. tenant .. '"},' ..
	'"recipient":{"id":"28:' .. app .. '","name":"OnCall Bot"},' ..
	'"text":"oncall","textFormat":"plain","locale":"en-US",' ..
	'"channelData":{"tenant":{"id":"' .. tenant .. '"}}}'
local headers = { ["Content-Type"] = "application/json; charset=utf-8",
                  ["Authorization"] = "Bearer " .. token }
local n = 0

function request()
	n = n + 1
	return wrk.format("POST", nil, headers, head .. run .. "-" .. tostring(tid) .. "-" .. tostring(n) .. tail)
end
