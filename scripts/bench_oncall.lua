-- bench_oncall.lua - wrk script for scripts/bench.sh: every request is the same signed
-- `/oncall` slash command (empty text: "who is on call now and next").
-- wrk's Lua has no HMAC, so bench.sh signs the body once per run (timestamp = now, valid for
-- Slack's 300 s window) and passes body, timestamp and signature through the environment.
-- Only static request fields are set, so wrk stays on its fast path (no per-request Lua).

local body = os.getenv("WK_BENCH_BODY")
local ts = os.getenv("WK_BENCH_TS")
local sig = os.getenv("WK_BENCH_SIG")
if not (body and ts and sig) then
	error("WK_BENCH_BODY, WK_BENCH_TS and WK_BENCH_SIG must be set (run scripts/bench.sh)")
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Slack-Request-Timestamp"] = ts
wrk.headers["X-Slack-Signature"] = sig
