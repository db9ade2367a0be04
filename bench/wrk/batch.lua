-- POST /query with a batch of snos per request. Arguments: the mode, the highest sno,
-- the batch size.
--   hit:  snos 1..size every time (cached once the bench has asked them once).
--   miss: snos spread as miss.lua spreads them (a stride prime to any max of the form
--         2^a 5^b, from a random start), each once per run: after a flush, all misses.
local mode, max, size, start, i = "hit", 100000, 50, 0, 0
local headers = {["Content-Type"] = "application/json"}
local fixed

local function body(first)
  local snos = {}
  for k = 0, size - 1 do
    snos[#snos + 1] = tostring((start + (first + k) * 7919) % max + 1)
  end
  return '{"snos":[' .. table.concat(snos, ",") .. ']}'
end

function init(args)
  mode = args[1] or mode
  max = tonumber(args[2]) or max
  size = tonumber(args[3]) or size
  if mode == "hit" then
    local snos = {}
    for k = 1, size do
      snos[#snos + 1] = tostring(k)
    end
    fixed = '{"snos":[' .. table.concat(snos, ",") .. ']}'
  else
    math.randomseed(os.time())
    start = math.random(0, max - 1)
  end
end

function request()
  if fixed then
    return wrk.format("POST", "/query", headers, fixed)
  end
  i = i + 1
  return wrk.format("POST", "/query", headers, body(i * size))
end
