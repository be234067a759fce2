-- Secrets never leave memory: a child Lua process runs every kind of call
-- (successes, HTTP errors, raised errors, transport and TLS failures, parse
-- errors, watches) with distinctive tokens, passwords, a client key and an
-- exec-plugin token, and prints everything it got back: error strings, info
-- tables, tostring of every object. None of the secrets may appear in that
-- output, on its stderr, or in any file in its working or temp directory
-- (which must stay empty: the module writes no files).
local testing = require "kube.testing"
local nf = dofile("spec/helpers/netfixture.lua")
local cluster = dofile("spec/helpers/cluster.lua")

local srv, facts, work

setup(function()
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
  facts = cluster.facts(srv)
  facts.basic_user, facts.basic_password =
    nf.read(srv.kubeconfig):match("user: {username: (%S+), password: (%x+)}")
  assert(facts.basic_password, "the server's kubeconfig has a basic-auth user")
  work = nf.tmpdir()
end)

teardown(function()
  if srv then srv.stop() end
  if work then os.execute("rm -rf " .. work) end
end)

-- Distinctive secrets that exist nowhere else.
local WRONG_TOKEN = "tok-SEKRIT-7f3a9c1e5b"
local WRONG_PASSWORD = "pw-SEKRIT-2d8e4f6a0c"
local EXEC_TOKEN = "exec-SEKRIT-9b1d3f5e7a"
local REFUSED_TOKEN = "refused-SEKRIT-4c6e8a0b2d"
local TLS_TOKEN = "tls-SEKRIT-1a3c5e7b9d"
local PARSE_TOKEN = "parse-SEKRIT-8e0a2c4d6f"

--- The kubeconfigs the child loads, each exercising one kind of credential.
local function kubeconfigs()
  local kc = {}
  local function add(name, text) kc[#kc + 1] = nf.write(work .. "/" .. name .. ".yaml", text) end
  add("token", cluster.kubeconfig(facts, {}))
  add("wrong-token", cluster.kubeconfig(facts, { user = "    token: " .. WRONG_TOKEN }))
  add("basic", cluster.kubeconfig(facts, {
    user = ("    username: %s\n    password: %s"):format(facts.basic_user, facts.basic_password),
  }))
  add("wrong-basic", cluster.kubeconfig(facts, {
    user = ("    username: %s\n    password: %s"):format(facts.basic_user, WRONG_PASSWORD),
  }))
  add("cert", cluster.kubeconfig(facts, {
    user = ("    client-certificate-data: %s\n    client-key-data: %s"):format(facts.cert_data, facts.key_data),
  }))
  -- The key as a file too, and a garbled key (a parse failure of key material).
  local key_file = nf.decode_to(work .. "/client.key", facts.key_data)
  local cert_file = nf.decode_to(work .. "/client.crt", facts.cert_data)
  add("cert-files", cluster.kubeconfig(facts, {
    user = ("    client-certificate: %s\n    client-key: %s"):format(cert_file, key_file),
  }))
  add("garbled-key", cluster.kubeconfig(facts, {
    user = ("    client-certificate-data: %s\n    client-key-data: %s"):format(facts.cert_data,
      facts.key_data:sub(1, 60) .. facts.key_data:sub(90)),
  }))
  -- An exec plugin issuing a token the server rejects (401, re-run, fails).
  local plugin_dir = work .. "/plugin"
  assert(os.execute("mkdir -p " .. plugin_dir .. " && cp spec/fixtures/exec/plugin.sh " .. plugin_dir .. "/"))
  nf.write(plugin_dir .. "/token", EXEC_TOKEN)
  add("exec", cluster.kubeconfig(facts, {
    user = table.concat({
      "    exec:",
      "      command: " .. plugin_dir .. "/plugin.sh",
      "      apiVersion: client.authentication.k8s.io/v1",
      "      interactiveMode: Never",
      "      env:",
      "      - {name: PLUGIN_STATE, value: " .. plugin_dir .. "}",
    }, "\n"),
  }))
  add("refused", cluster.kubeconfig(facts, {
    server = "https://127.0.0.1:" .. nf.closed_port(), user = "    token: " .. REFUSED_TOKEN,
  }))
  add("unknown-ca", cluster.kubeconfig(facts, {
    ca_data = false, cluster = "    certificate-authority-data: " .. facts.cert_data,
    user = "    token: " .. TLS_TOKEN,
  }))
  -- Malformed: the secret where YAML expected a map, and inside a list.
  add("parse-map", cluster.kubeconfig(facts, { user = "    token: [" .. PARSE_TOKEN .. "]" }))
  add("parse-user", (cluster.kubeconfig(facts, {}):gsub("  user:\n    token: %x+", "  user: " .. PARSE_TOKEN)))
  add("parse-yaml", "users:\n- name: u\n  user: {token: " .. PARSE_TOKEN .. "\n  x: [\n")
  return kc
end

-- The child: every call's results and every object's tostring, printed.
local CHILD = [==[
local api = require "kube.api"
local config = require "kube.config"
local seen = {}
local function dump(v, depth)
  depth = depth or 0
  if type(v) == "table" then
    if seen[v] or depth > 6 then return "<table>" end
    seen[v] = true
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = dump(k, depth + 1) .. "=" .. dump(x, depth + 1) end
    local mt = getmetatable(v)
    if type(mt) == "table" then parts[#parts + 1] = "mt=" .. dump(mt, depth + 1) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tostring(v)
end
local function note(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = dump((select(i, ...))) end
  print(table.concat(parts, " | "))
end
local function try(f, ...) note(pcall(f, ...)) end

for _, path in ipairs(arg) do
  print("== " .. path:match("[^/]+$"))
  local ok, conf = pcall(config.from_kube_config, path)
  note(ok, conf)
  if ok then
    for _, m in ipairs { "contexts", "clusters", "usernames", "context", "cluster", "username",
      "server_addr", "cert", "key", "namespace" } do
      try(conf[m], conf)
    end
    try(conf.context, conf, "no-such-context")
    for _, panic in ipairs { false, true } do
      local c = api.Client:new(conf, panic)
      local core = c:corev1()
      local pods = core:pods("default")
      note(c, core, pods)
      try(pods.get, pods)
      try(pods.get, pods, "missing")
      try(pods.logs, pods, "missing")
      try(c.call, c, "GET", "v1/namespaces/default/secrets")
      try(c.raw_call, c, "GET", "v1/namespaces/default/configmaps/nope")
      try(core:configmaps("default").create, core:configmaps("default"),
        { metadata = { name = "s-" .. path:match("([%w-]+)%.yaml$") .. tostring(panic) }, data = { a = "1" } })
      try(core:configmaps("default").patch, core:configmaps("default"), "nope", { data = { b = "2" } })
      try(function()
        local w = core:configmaps("default"):watch(nil, { timeout = 0.3, retries = 1 })
        note(w)
        for t, o in w do note(t, o) end
      end)
      try(function()
        for o in core:configmaps("default"):iter(nil, { limit = 1 }) do note(o) end
      end)
    end
  end
end
]==]

describe("secrets", function()
  it("appear in no output, error, info, tostring or file of a process that uses them", function()
    local list = kubeconfigs()
    local child_dir, cwd, tmp = nf.tmpdir(), nf.tmpdir(), nf.tmpdir()
    local script = nf.write(child_dir .. "/child.lua", CHILD)
    local out_file, err_file = child_dir .. "/stdout", child_dir .. "/stderr"
    local cmd = ("cd %s && TMPDIR=%s %s %s %s >%s 2>%s"):format(cwd, tmp, nf.interpreter(), script,
      table.concat(list, " "), out_file, err_file)
    os.execute(cmd)
    local out, err = nf.read(out_file) or "", nf.read(err_file) or ""
    -- The child ran every kubeconfig through to the end.
    for _, path in ipairs(list) do
      assert.truthy(out:find("== " .. path:match("[^/]+$"), 1, true), "child reached " .. path .. "\n" .. err)
    end
    assert.are.equal("", err)
    local key_pem_line = nil
    do
      local pem = nf.read(nf.decode_to(child_dir .. "/k.pem", facts.key_data))
      key_pem_line = pem:match("\n([%w+/=]+)\n")
      os.remove(child_dir .. "/k.pem")
    end
    local secrets = {
      admin_token = facts.admin_token, basic_password = facts.basic_password, key_data = facts.key_data,
      key_pem_line = key_pem_line, wrong_token = WRONG_TOKEN, wrong_password = WRONG_PASSWORD,
      exec_token = EXEC_TOKEN, refused_token = REFUSED_TOKEN, tls_token = TLS_TOKEN, parse_token = PARSE_TOKEN,
    }
    for name, s in pairs(secrets) do
      assert.is_nil(out:find(s, 1, true), name .. " in the child's output")
      assert.is_nil(err:find(s, 1, true), name .. " on the child's stderr")
    end
    -- The failures did happen (the check above is not vacuous).
    assert.truthy(out:find("401", 1, true))
    assert.truthy(out:find("Code 404", 1, true))
    assert.truthy(out:find("redacted", 1, true))
    -- No files: neither in the working directory nor in TMPDIR.
    local p = assert(io.popen("find " .. cwd .. " " .. tmp .. " -mindepth 1"))
    local written = p:read("*a")
    p:close()
    assert.are.equal("", written)
    os.execute("rm -rf " .. child_dir .. " " .. cwd .. " " .. tmp)
  end)
end)
