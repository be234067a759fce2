-- Starts the Python network stand-ins of spec/helpers/netfixture.py (a CONNECT
-- and SOCKS5 proxy, a plain-HTTP probe server, a server that never answers) and child Lua processes with
-- their own environment (for KUBECONFIG, KUBERNETES_SERVICE_HOST, HTTPS_PROXY).
local M = {}

local function sleep(s) os.execute("sleep " .. s) end

function M.read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

function M.tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  return dir
end

--- A port nothing listens on (bound, then released), as a string.
function M.closed_port()
  local p = assert(io.popen([[python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])']]))
  local port = p:read("*l")
  p:close()
  return port
end

--- The current directory (the repository root when busted runs).
function M.cwd()
  local p = assert(io.popen("pwd"))
  local dir = p:read("*l")
  p:close()
  return dir
end

--- Lines appended to a log file so far.
function M.lines(path)
  local out = {}
  for l in (M.read(path) or ""):gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

--- Starts `netfixture.py mode` with its files in `dir` (and `extra`, more
--- command-line arguments, e.g. "--cert C --key K" for the hostile server):
--- {port =, pid =, log = path, url = "http://127.0.0.1:port", stop = fn}.
function M.start(mode, dir, extra)
  local ready, log = dir .. "/" .. mode .. ".ready", dir .. "/" .. mode .. ".log"
  assert(os.execute(("python3 spec/helpers/netfixture.py %s --ready %s --log %s %s >%s/%s.out 2>&1 &")
    :format(mode, ready, log, extra or "", dir, mode)))
  for _ = 1, 200 do
    local text = M.read(ready)
    if text then
      local port, pid = text:match("(%d+) (%d+)")
      return {
        port = tonumber(port), pid = pid, log = log, url = "http://127.0.0.1:" .. port,
        stop = function() os.execute("kill " .. pid .. " 2>/dev/null") end,
      }
    end
    sleep(0.05)
  end
  error("netfixture " .. mode .. " did not start: " .. (M.read(dir .. "/" .. mode .. ".out") or ""))
end

--- The hostile HTTPS server of netfixture.py (faults picked by the namespace
--- in the path) with fresh certificates in `dir`; also returns a kubeconfig
--- path for it (token "hostile-token-123456") and the server table gets
--- `url = "https://127.0.0.1:port"`.
function M.hostile(dir)
  assert(os.execute("sh spec/helpers/make_certs.sh " .. dir))
  local srv = M.start("hostile", dir, ("--cert %s/localhost.crt --key %s/localhost.key"):format(dir, dir))
  srv.url = "https://127.0.0.1:" .. srv.port
  local p = assert(io.popen("base64 -w0 " .. dir .. "/ca.crt"))
  local ca = p:read("*a")
  p:close()
  srv.token = "hostile-token-123456"
  srv.kubeconfig = M.write(dir .. "/hostile.kubeconfig", table.concat({
    "apiVersion: v1", "kind: Config", "current-context: h",
    "clusters:", "- name: h", "  cluster:", "    server: " .. srv.url,
    "    certificate-authority-data: " .. ca,
    "contexts:", "- name: h", "  context: {cluster: h, user: h}",
    "users:", "- name: h", "  user: {token: " .. srv.token .. "}", "",
  }, "\n"))
  return srv
end

--- Requests the hostile server logged whose line contains `needle` (plain).
function M.count(path, needle)
  local n = 0
  for _, l in ipairs(M.lines(path)) do
    if l:find(needle, 1, true) then n = n + 1 end
  end
  return n
end

--- The interpreter running this spec, to run child scripts on the same Lua.
function M.interpreter()
  if jit then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

--- Runs Lua `code` in a child interpreter with extra environment variables;
--- returns its exit status and combined output.
function M.run_lua(dir, env, code)
  local script = M.write(dir .. "/child-" .. tostring(math.random(1e9)) .. ".lua", code)
  local assignments = {}
  for k, v in pairs(env) do assignments[#assignments + 1] = k .. "='" .. v .. "'" end
  local cmd = ("env %s %s %s 2>&1"):format(table.concat(assignments, " "), M.interpreter(), script)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  local ok = p:close()
  return ok == true or ok == 0, out
end

--- base64-decodes a string (through the base64 tool) into a file.
function M.decode_to(path, b64)
  M.write(path .. ".b64", b64)
  assert(os.execute(("base64 -d %s.b64 > %s"):format(path, path)))
  return path
end

return M
