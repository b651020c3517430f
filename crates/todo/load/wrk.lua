-- The book's load mix (Elixir in Action, todo_web wrk.lua): lists list_1..list_1000, a random
-- day of December 2018; 80% GET /entries, 20% POST /add_entry.
-- Run: wrk -t4 -c28 -d30s --latency -s crates/todo/load/wrk.lua http://127.0.0.1:5454
math.randomseed(os.time())
request = function()
  local list = "list_" .. math.random(1000)
  local date = string.format("2018-12-%02d", math.random(31))
  if math.random(5) < 5 then
    return wrk.format("GET", "/entries?list=" .. list .. "&date=" .. date)
  else
    return wrk.format("POST", "/add_entry?list=" .. list .. "&date=" .. date .. "&title=Dentist")
  end
end
