-- bench_oncall.lua - wrk script for scripts/bench.sh: every request is the signed `/oncall`
-- slash command (empty text: "who is on call now and next"), each one a distinct delivery.
-- The daemon runs a signed request once (replay protection keyed by its signature) and answers
-- any repeat with "already received", so a body signed once and sent again would measure that
-- refusal instead of the command. So each request gets its own trigger_id (thread, counter) and
-- is signed here with OpenSSL's HMAC-SHA256 through LuaJIT's FFI (wrk links libcrypto).
-- bench.sh passes the body, the run's timestamp (valid for Slack's 300 s window) and the
-- signing secret through the environment; the floors get the same requests.

local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d,
                    size_t n, unsigned char *md, unsigned int *md_len);
]]
local crypto = ffi.load("libcrypto.so.3")

-- bench_wrk.lua (next to this file): getenv, and setup() numbering the threads as `tid`.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "bench_wrk.lua")
local body, ts, secret = bench.getenv({ "WK_BENCH_BODY", "WK_BENCH_TS", "WK_BENCH_SECRET" },
                                       "scripts/bench.sh")

local md = ffi.new("unsigned char[32]")
local mdlen = ffi.new("unsigned int[1]")
local sha256 = crypto.EVP_sha256()
local n = 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
                  ["X-Slack-Request-Timestamp"] = ts }

local hexbyte = {}
for i = 0, 255 do hexbyte[i] = string.format("%02x", i) end
local function hex(p, len)
	local t = {}
	for i = 0, len - 1 do t[i + 1] = hexbyte[p[i]] end
	return table.concat(t)
end

function request()
	n = n + 1
	-- the body ends with trigger_id=...: make it this delivery's own
	local b = body .. "." .. tostring(tid) .. "." .. n
	local base = "v0:" .. ts .. ":" .. b
	crypto.HMAC(sha256, secret, #secret, base, #base, md, mdlen)
	headers["X-Slack-Signature"] = "v0=" .. hex(md, mdlen[0])
	return wrk.format("POST", nil, headers, b)
end
