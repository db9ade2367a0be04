-- Snos 1..max, each once per run (a stride prime to any max of the form 2^a 5^b),
-- from a random start: after a flush of the cache, every request is a miss.
local max, start, i = 100000, 0, 0

function init(args)
  max = tonumber(args[1]) or max
  math.randomseed(os.time())
  start = math.random(0, max - 1)
end

function request()
  i = i + 1
  return wrk.format("GET", "/query?sno=" .. ((start + i * 7919) % max + 1))
end
