-- wrk: POST the form $BENCH_BODY (urlencoded, with the csrf_token of the signed-in
-- session) to the paths in $BENCH_PATHS in turn, with the session's cookies.
-- "{n}" in the body becomes a per-request counter so no two bodies are equal.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local body = os.getenv("BENCH_BODY")
wrk.method = "POST"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local i = math.random(#paths)
local n = math.random(1000000)

request = function()
  i = i % #paths + 1
  n = n + 1
  return wrk.format(nil, paths[i], nil, (body:gsub("{n}", tostring(n))))
end
