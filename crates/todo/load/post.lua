-- POST /add_entry only, over the book's 1000 lists: the durable-write path alone.
-- Run: wrk -t4 -c28 -d10s --latency -s crates/todo/load/post.lua http://127.0.0.1:5454
math.randomseed(os.time())
request = function()
  local list = "list_" .. math.random(1000)
  local date = string.format("2018-12-%02d", math.random(31))
  return wrk.format("POST", "/add_entry?list=" .. list .. "&date=" .. date .. "&title=Dentist")
end
