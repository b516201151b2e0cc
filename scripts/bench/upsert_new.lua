-- wrk script: every request upserts a contact with a cellphone never sent before.
-- Numbers are +1, one of ten US area codes, an exchange 200-999 and a line number,
-- made unique per wrk thread by interleaving the counters of the threads.
local codes = {"415", "408", "212", "305", "512", "617", "702", "801", "919", "206"}
local threads = {}
local counter = 0
local thread_id = 0
local thread_count = 1

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_count = tonumber(os.getenv("WRK_THREADS") or "2")
end

function request()
  local n = counter * thread_count + thread_id
  counter = counter + 1
  local code = codes[(n % 10) + 1]
  local rest = math.floor(n / 10)
  local exchange = 200 + math.floor(rest / 10000) % 800
  local line = rest % 10000
  local phone = string.format("+1%s%03d%04d", code, exchange, line)
  local body = string.format(
    '{"cellphone":"%s","firstName":"Lead","lastName":"Number %d","languageCode":"EN","email":"lead%d@example.com"}',
    phone, n, n)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["x-api-key"] = os.getenv("LEADLINE_KEY")}, body)
end
