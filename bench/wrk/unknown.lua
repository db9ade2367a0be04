-- Snos just above the highest stored one: none exists, each is asked again and again.
local first, count = 100001, 1000

function init(args)
  first = (tonumber(args[1]) or first - 1) + 1
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", "/query?sno=" .. math.random(first, first + count - 1))
end
