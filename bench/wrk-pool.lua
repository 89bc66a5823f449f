-- wrk request script for one-time artefacts (authorization codes, refresh tokens): every request posts the next
-- line of the file named by WRK_POOL as its body (with the Authorization header in WRK_AUTH). A pool that runs dry
-- posts its first line with the artefact replaced by one no server issued: refused (400) and counted in
-- err_status, never hidden. Not the used lines again: a replayed code or refresh token revokes its family, which
-- costs a server far more than a refusal (identityserver reads every refresh token of the session, and a pool's
-- tokens share one session), so a dry pool would slow the run it is only meant to show.
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

local dry = (bodies[1] or ""):gsub("&code=[^&]*", "&code=never-issued", 1)
  :gsub("refresh_token=[^&]*", "refresh_token=never-issued", 1)

request = function()
  next_body = next_body + 1
  return wrk.format(nil, nil, nil, bodies[next_body] or dry)
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
