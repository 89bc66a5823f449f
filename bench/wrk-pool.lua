-- wrk request script for one-time artefacts (authorization codes, refresh tokens): every request posts the next
-- line of the file named by WRK_POOL as its body (with the Authorization header in WRK_AUTH). A pool that runs dry
-- starts again from its first line: those requests are refused (400) and counted in err_status, never hidden.
-- done() prints the same WRKJSON line as ../shared/perf/wrk-req.lua.
local auth = os.getenv("WRK_AUTH") or ""
local bodies = {}
for line in io.lines(os.getenv("WRK_POOL")) do
  if line ~= "" then bodies[#bodies + 1] = line end
end
local next_body = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

request = function()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end
