-- GET /entries only, over the book's 1000 lists (run wrk.lua first so they have entries).
-- Run: wrk -t4 -c28 -d10s --latency -s crates/todo/load/get.lua http://127.0.0.1:5454
math.randomseed(os.time())
request = function()
  local list = "list_" .. math.random(1000)
  local date = string.format("2018-12-%02d", math.random(31))
  return wrk.format("GET", "/entries?list=" .. list .. "&date=" .. date)
end
