-- wrk script: every request upserts one of 1,000 contacts that already exist, so each
-- is an update of an existing row (and many batches update one row several times).
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function request()
  counter = counter + 1
  local n = (counter * 7 + thread_id * 500) % 1000
  local phone = string.format("+1415201%04d", n)
  local body = string.format('{"cellphone":"%s","firstName":"Repeat","lastName":"Update %d","languageCode":"ES"}', phone, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["x-api-key"] = os.getenv("LEADLINE_KEY")}, body)
end
