-- wrk script: POST Xendit PAID callbacks to the webhook, round-robin over the
-- orders of <orders file> ("order_id invoice_id" per line), with the token.
-- The first callback per order pays it; the rest are Xendit's retries
-- (duplicates), as in production.
--   wrk -t2 -c64 -d15s --latency -s deploy/bench/callbacks.lua URL -- orders.txt TOKEN
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("thread_no", nthreads)
end

function init(args)
  local file, token = args[1], args[2]
  prepared = {}
  for line in io.lines(file) do
    local order, invoice = line:match("^(%S+)%s+(%S+)$")
    if order then
      local body = string.format(
        '{"id":"%s","external_id":"%s","status":"PAID","amount":25000,"currency":"IDR",' ..
        '"payment_method":"BANK_TRANSFER","payment_channel":"BCA"}', invoice, order)
      table.insert(prepared, wrk.format("POST", "/api/shared/webhooks/xendit",
        { ["Content-Type"] = "application/json", ["x-callback-token"] = token }, body))
    end
  end
  if #prepared == 0 then error("callbacks.lua: no orders in " .. tostring(file)) end
  cursor = (thread_no * 997) % #prepared
end

function request()
  cursor = cursor + 1
  if cursor > #prepared then cursor = 1 end
  return prepared[cursor]
end
