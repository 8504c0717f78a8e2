-- bench/serve.py's wrk script: POST one GraphQL body, count every answer that failed, print a JSON summary.
--
--   wrk -t T -c C -d D -s bench/wrk/graphql.lua URL -- T BODY_FILE TOKENS_FILE [KEY_PREFIX]
--
-- Reads (no KEY_PREFIX): every request sends BODY_FILE with the first token of TOKENS_FILE.
-- Writes (KEY_PREFIX): each request takes the next unused token of its thread's share of TOKENS_FILE
-- (line i goes to thread (i - 1) % T, so no member is used twice) and replaces __IDEMPOTENCY_KEY__ in
-- the body with KEY_PREFIX-thread-n (unique). A thread that has used all of its tokens sends its last
-- one again and counts `exhausted` (such a request fails: the harness fails the row).
-- Failed: a status outside 2xx, a body with "errors", and for writes a body without "userErrors":[].
-- `done` prints one line: WRK_JSON {…} (latencies in microseconds).

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local function read_file(path)
   local file = assert(io.open(path, "rb"))
   local text = file:read("*a")
   file:close()
   return text
end

non_2xx, graphql_errors, user_errors, exhausted = 0, 0, 0, 0
local writes, tokens, used, prefix, body_head, body_tail, fixed_request

function init(args)
   local thread_count = tonumber(args[1])
   local body = read_file(args[2])
   prefix = args[4]
   writes = prefix ~= nil
   tokens = {}
   local line_number = 0
   for token in io.lines(args[3]) do
      if token ~= "" then
         if not writes or line_number % thread_count == id then
            table.insert(tokens, token)
         end
         line_number = line_number + 1
      end
   end
   used = 0
   if writes then
      local at = assert(body:find("__IDEMPOTENCY_KEY__", 1, true), "no __IDEMPOTENCY_KEY__ in the body")
      body_head, body_tail = body:sub(1, at - 1), body:sub(at + #"__IDEMPOTENCY_KEY__")
   else
      fixed_request = wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                               ["Authorization"] = "Bearer " .. tokens[1]}, body)
   end
end

function request()
   if not writes then
      return fixed_request
   end
   used = used + 1
   local token = tokens[used]
   if token == nil then
      exhausted = exhausted + 1
      token = tokens[#tokens]
   end
   local key = prefix .. "-" .. id .. "-" .. used
   return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token},
                     body_head .. key .. body_tail)
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
   elseif body:find('"errors"', 1, true) then
      graphql_errors = graphql_errors + 1
   elseif writes and not body:find('"userErrors":[]', 1, true) then
      user_errors = user_errors + 1
   end
end

function done(summary, latency, requests)
   local counts = {non_2xx = 0, graphql_errors = 0, user_errors = 0, exhausted = 0}
   for _, thread in ipairs(threads) do
      for name, _ in pairs(counts) do
         counts[name] = counts[name] + (thread:get(name) or 0)
      end
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d, "non_2xx": %d, "graphql_errors": %d, "user_errors": %d, '
      .. '"exhausted": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, counts.non_2xx,
      counts.graphql_errors, counts.user_errors, counts.exhausted, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.mean, latency.max))
end
