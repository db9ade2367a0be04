-- One sno, asked again and again: after its first answer every request is a cache hit.
-- The API key, when given, makes the caller a pii:read holder (the full view).
local path = "/query?sno=1"
local headers = {}

function init(args)
  path = "/query?sno=" .. (args[1] or "1")
  if args[2] then
    headers["Authorization"] = "Bearer " .. args[2]
  end
end

function request()
  return wrk.format("GET", path, headers)
end
