-- wrk: GET the paths listed in $BENCH_PATHS (one per line) in turn, with the
-- signed-in session's cookies from $BENCH_COOKIE. Several paths (random search
-- words, many tickets) keep a cache from answering for the database.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
local i = math.random(#paths)

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
