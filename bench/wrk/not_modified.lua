-- One sno asked again and again by a poller that holds its body: every answer is a 304.
-- Arguments: the sno, the ETag its /query body has.
local path = "/query?sno=1"
local headers = {}

function init(args)
  path = "/query?sno=" .. (args[1] or "1")
  headers["If-None-Match"] = args[2]
end

function request()
  return wrk.format("GET", path, headers)
end
