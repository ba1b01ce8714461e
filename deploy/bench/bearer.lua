-- wrk script: GET <path> with "Authorization: Bearer <token>", taking the tokens
-- of <token file> (one per line) round-robin; each thread starts at its own line.
--   wrk -t2 -c64 -d15s --latency -s deploy/bench/bearer.lua http://127.0.0.1:3000 -- tokens.txt /api/client/me
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("thread_no", nthreads)
end

function init(args)
  local file, path = args[1], args[2] or "/"
  prepared = {}
  for token in io.lines(file) do
    if token ~= "" then
      table.insert(prepared, wrk.format("GET", path, { Authorization = "Bearer " .. token }))
    end
  end
  if #prepared == 0 then error("bearer.lua: no tokens in " .. tostring(file)) end
  cursor = (thread_no * 101) % #prepared
end

function request()
  cursor = cursor + 1
  if cursor > #prepared then cursor = 1 end
  return prepared[cursor]
end
