-- POST /shipments/<sno>/events: "In Transit" (another hop) to a random order of the
-- range made for it, at the server's time. Arguments: the first sno, how many, the key.
local first, count = 1, 1000
local headers = {["Content-Type"] = "application/json"}

function init(args)
  first = tonumber(args[1]) or first
  count = tonumber(args[2]) or count
  headers["Authorization"] = "Bearer " .. (args[3] or "")
  math.randomseed(os.time())
end

function request()
  local sno = math.random(first, first + count - 1)
  local body = '{"status":"In Transit","location_id":' .. math.random(1, 18) .. '}'
  return wrk.format("POST", "/shipments/" .. sno .. "/events", headers, body)
end
