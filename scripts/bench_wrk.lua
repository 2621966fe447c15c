-- bench_wrk.lua - what the wrk scripts bench_oncall.lua and bench_teams.lua share; each loads
-- it with dofile() from its own directory (bench_wrk_load below), so it works from any cwd.
-- Returns a table:
--   getenv(names, driver): the values of the environment variables NAMES, in order; an error
--       naming them all (and the DRIVER script that sets them) when any is unset.
-- Loading it also defines wrk's setup(thread): the main state numbers the threads, each thread
-- sees its own number as the global `tid` (for ids unique across threads).

local M = {}

function M.getenv(names, driver)
	local vals, missing = {}, false
	for i, name in ipairs(names) do
		vals[i] = os.getenv(name)
		if not vals[i] then missing = true end
	end
	if missing then
		local list = table.concat(names, ", ", 1, #names - 1) .. " and " .. names[#names]
		error(list .. " must be set (run " .. driver .. ")")
	end
	return unpack(vals, 1, #names)
end

local threads = 0
function setup(thread)       -- runs in the main state: number the threads
	threads = threads + 1
	thread:set("tid", threads)
end

return M
