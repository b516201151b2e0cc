-- wrk script: outgoing-number selections (POST /phone-numbers/outgoing/new) for a mix
-- of recipients: half reached before (the seed gave each a sticky number), half new,
-- one request in ten for a call, one in five with a campaign of the pool.
local codes = {"415", "408", "212", "305", "512", "617", "702", "801", "919", "206"}
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local n = counter * 7919 + thread_id * 104729
  local phone
  if n % 2 == 0 then
    -- a recipient of the seeded history: +1 415 7xx xxxx, 100,000 of them
    phone = string.format("+1415%07d", 7000000 + (n % 100000))
  else
    phone = string.format("+1%s%03d%04d", codes[(n % 10) + 1], 200 + (n % 700), n % 10000)
  end
  local channel = (n % 10 == 3) and "call" or "sms"
  local body
  local campaign = os.getenv("BENCH_CAMPAIGN") or ""
  if n % 5 == 1 and campaign ~= "" then
    body = string.format('{"recipientPhoneNumber":"%s","channel":"%s","campaignId":"%s"}', phone, channel, campaign)
  else
    body = string.format('{"recipientPhoneNumber":"%s","channel":"%s"}', phone, channel)
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["x-api-key"] = os.getenv("LEADLINE_KEY")}, body)
end
