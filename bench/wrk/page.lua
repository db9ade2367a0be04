-- One sno's tracking page, asked again and again: after its first answer every request is a
-- cache hit, as for hit.lua, from a browser that prefers Traditional Chinese.
local path = "/track/1"
local headers = {["Accept-Language"] = "zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7"}

function init(args)
  path = "/track/" .. (args[1] or "1")
end

function request()
  return wrk.format("GET", path, headers)
end
