-- wrk script for deploy/bench/cc_lists.sh: GET the paths of <paths file>
-- (one per line, e.g. "/internal/chats/<id>/transcript?limit=100") round-
-- robin with "Authorization: Bearer <token>"; each thread starts at its own
-- line. A file of one line sends the same request every time.
--   wrk -t2 -c8 -d15s --latency -s deploy/bench/cc_lists.lua http://127.0.0.1:3001 -- <token> paths.txt
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("thread_no", nthreads)
end

function init(args)
  local token, file = args[1], args[2]
  if not token or not file then error("cc_lists.lua: -- <token> <paths file>") end
  local headers = { Authorization = "Bearer " .. token }
  prepared = {}
  for path in io.lines(file) do
    if path ~= "" then table.insert(prepared, wrk.format("GET", path, headers)) end
  end
  if #prepared == 0 then error("cc_lists.lua: no paths in " .. file) end
  cursor = (thread_no * 101) % #prepared
end

function request()
  cursor = cursor + 1
  if cursor > #prepared then cursor = 1 end
  return prepared[cursor]
end
