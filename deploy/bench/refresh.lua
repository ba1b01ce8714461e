-- wrk script: POST /api/shared/auth/refresh {"refresh_token": "..."}, every request
-- with a distinct line of <token file>, so each one is a first use (real bcrypt
-- verify + rotation). Thread k of <threads> sends lines k, k+threads, k+2*threads...
-- When a thread has used up its share it sends a malformed token instead (the
-- server answers 401, wrk counts it as non-2xx) and the run reports "exhausted".
--   wrk -t2 -c64 -d15s --timeout 60s --latency -s deploy/bench/refresh.lua URL -- refresh.txt 2
local handles = {}

function setup(thread)
  table.insert(handles, thread)
  thread:set("thread_no", #handles)
end

function init(args)
  local file, threads = args[1], tonumber(args[2] or "1")
  tokens = {}
  for token in io.lines(file) do
    if token ~= "" then table.insert(tokens, token) end
  end
  stride, next_line, used, exhausted = threads, thread_no, 0, 0
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  local token = tokens[next_line]
  if token then
    next_line = next_line + stride
    used = used + 1
  else
    token = "exhausted"
    exhausted = exhausted + 1
  end
  return wrk.format("POST", "/api/shared/auth/refresh", headers,
    string.format('{"refresh_token":"%s"}', token))
end

function done(summary, latency, requests)
  local sent, short = 0, 0
  for _, t in ipairs(handles) do
    sent = sent + t:get("used")
    short = short + t:get("exhausted")
  end
  io.write(string.format("refresh tokens sent: %d, exhausted: %d\n", sent, short))
end
