-- Connection settings over the network: proxies (proxy-url http and socks5,
-- HTTPS_PROXY / NO_PROXY), tls-server-name, impersonation headers, gzip and
-- disable-compression, timeouts and retries. The stand-in API server serves
-- HTTPS; a small Python proxy counts tunnels, and a plain-HTTP probe server
-- reports the headers it received and injects faults (spec/helpers/netfixture.py).
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"
local nf = dofile("spec/helpers/netfixture.lua")
local cluster = dofile("spec/helpers/cluster.lua")

local srv, facts, dir, proxy, probe

setup(function()
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
  facts = cluster.facts(srv)
  dir = nf.tmpdir()
  proxy = nf.start("proxy", dir)
  probe = nf.start("probe", dir)
end)

teardown(function()
  if proxy then proxy.stop() end
  if probe then probe.stop() end
  if srv then srv.stop() end
end)

local function conf_for(opts)
  local path = dir .. "/kubeconfig-" .. tostring(math.random(1e9))
  return config.from_kube_config(nf.write(path, cluster.kubeconfig(facts, opts)))
end

--- The API server under a made-up name: only a proxy (which sends every
--- tunnel to 127.0.0.1) can reach it; TLS is checked against "localhost".
local function hidden_server(extra)
  return {
    server = "https://kube.test:" .. facts.port,
    cluster = "    tls-server-name: localhost" .. (extra and ("\n" .. extra) or ""),
  }
end

--- Lines appended to a log since it had `before` lines.
local function new_lines(log, before)
  local out = {}
  for i, l in ipairs(nf.lines(log)) do
    if i > before then out[#out + 1] = l end
  end
  return out
end

describe("proxies", function()
  it("tunnel through proxy-url (http CONNECT), one connection for many calls", function()
    local before = #nf.lines(proxy.log)
    local opts = hidden_server("    proxy-url: " .. proxy.url)
    local pods = api.Client:new(conf_for(opts)):corev1():pods("kube-system")
    for _ = 1, 3 do
      local items, msg, code = pods:get()
      assert.are.equal(200, code, msg)
      assert.are.equal(2, #items)
    end
    assert.are.same({ "CONNECT kube.test:" .. facts.port }, new_lines(proxy.log, before))
  end)

  it("tunnel through a socks5 proxy-url, the host name resolved by the proxy", function()
    local before = #nf.lines(proxy.log)
    local opts = hidden_server("    proxy-url: socks5://127.0.0.1:" .. proxy.port)
    local _, msg, code = api.Client:new(conf_for(opts)):corev1():pods("kube-system"):get()
    assert.are.equal(200, code, msg)
    assert.are.same({ "SOCKS kube.test:" .. facts.port }, new_lines(proxy.log, before))
  end)

  it("without proxy-url the name is resolved directly and fails", function()
    local body, msg = api.Client:new(conf_for(hidden_server())):corev1():pods("kube-system"):get()
    assert.is_nil(body)
    assert.truthy(msg:find("kube.test", 1, true), msg)
  end)

  it("come from HTTPS_PROXY and NO_PROXY; proxy-url wins; loopback is never proxied", function()
    local before = #nf.lines(proxy.log)
    local kc = nf.write(dir .. "/env-proxy", cluster.kubeconfig(facts, hidden_server()))
    local via_env = cluster.kubeconfig(facts, hidden_server("    proxy-url: " .. proxy.url))
    local kc_url = nf.write(dir .. "/url-proxy", via_env)
    local kc_loop = nf.write(dir .. "/loopback", cluster.kubeconfig(facts, {}))
    local script = [[
      local config, api = require "kube.config", require "kube.api"
      local function try(path)
        local _, msg, code = api.Client:new(config.from_kube_config(path)):corev1():pods("kube-system"):get()
        return tostring(code or msg)
      end
      print("hidden " .. try("]] .. kc .. [["))
      print("proxy-url " .. try("]] .. kc_url .. [["))
      print("loopback " .. try("]] .. kc_loop .. [["))
    ]]
    -- HTTPS_PROXY reaches the hidden name, proxy-url too; the loopback address goes direct.
    local ok, out = nf.run_lua(dir, { HTTPS_PROXY = proxy.url, NO_PROXY = "example.com" }, script)
    assert.is_true(ok, out)
    assert.truthy(out:find("hidden 200\n", 1, true), out)
    assert.truthy(out:find("proxy-url 200\n", 1, true), out)
    assert.truthy(out:find("loopback 200\n", 1, true), out)
    assert.are.same({ "CONNECT kube.test:" .. facts.port, "CONNECT kube.test:" .. facts.port },
      new_lines(proxy.log, before))
    -- NO_PROXY excludes the name; a dead HTTPS_PROXY does not matter when proxy-url is set.
    before = #nf.lines(proxy.log)
    ok, out = nf.run_lua(dir, { https_proxy = "http://127.0.0.1:1", NO_PROXY = ".test" }, script)
    assert.is_true(ok, out)
    assert.is_nil(out:find("hidden 200", 1, true), out)
    assert.truthy(out:find("proxy-url 200\n", 1, true), out)
    assert.truthy(out:find("loopback 200\n", 1, true), out)
    assert.are.same({ "CONNECT kube.test:" .. facts.port }, new_lines(proxy.log, before))
  end)

  it("rejects an unsupported proxy scheme at Client:new without showing its password", function()
    local conf = conf_for(hidden_server("    proxy-url: ftp://user:s3cret@proxy:21"))
    local ok, err = pcall(api.Client.new, api.Client, conf)
    assert.is_false(ok)
    assert.truthy(err:find("unsupported scheme", 1, true), err)
    assert.is_nil(err:find("s3cret", 1, true))
  end)
end)

describe("TLS settings", function()
  it("insecure-skip-tls-verify accepts the server without its CA", function()
    local conf = conf_for { ca_data = false, cluster = "    insecure-skip-tls-verify: true" }
    assert.are.equal(200, select(3, api.Client:new(conf):corev1():pods("kube-system"):get()))
  end)

  it("tls-server-name must match the certificate", function()
    local conf = conf_for { cluster = "    tls-server-name: other.example" }
    local body, msg = api.Client:new(conf):corev1():pods("kube-system"):get()
    assert.is_nil(body)
    assert.truthy(msg:lower():find("certificate", 1, true), msg)
    conf = conf_for { cluster = "    tls-server-name: localhost" }
    assert.are.equal(200, select(3, api.Client:new(conf):corev1():pods("kube-system"):get()))
  end)
end)

describe("exec plugin certificates", function()
  it("open new connections when the plugin hands out a new certificate", function()
    local state = nf.tmpdir()
    nf.decode_to(state .. "/client.crt", facts.cert_data)
    nf.decode_to(state .. "/client.key", facts.key_data)
    local function user(ttl)
      return table.concat({
        "    exec:",
        "      command: " .. nf.cwd() .. "/spec/fixtures/exec/plugin.sh",
        "      apiVersion: client.authentication.k8s.io/v1",
        "      interactiveMode: Never",
        "      env:",
        "      - {name: PLUGIN_STATE, value: " .. state .. "}",
        "      - {name: PLUGIN_MODE, value: cert}",
        "      - {name: PLUGIN_TTL, value: \"" .. ttl .. "\"}",
      }, "\n")
    end
    for ttl, tunnels in pairs { [3600] = 1, [0] = 3 } do
      local before = #nf.lines(proxy.log)
      local opts = hidden_server("    proxy-url: " .. proxy.url)
      opts.user = user(ttl)
      local pods = api.Client:new(conf_for(opts)):corev1():pods("kube-system")
      for _ = 1, 3 do assert.are.equal(200, select(3, pods:get())) end
      assert.are.equal(tunnels, #new_lines(proxy.log, before), "ttl " .. ttl)
    end
  end)
end)

describe("request headers", function()
  local function probe_conf(extra_user, cluster_extra)
    return conf_for {
      server = probe.url, ca_data = false, cluster = cluster_extra,
      user = "    token: probe-token" .. (extra_user and ("\n" .. extra_user) or ""),
    }
  end

  local function seen(conf)
    local body, msg, code = api.Client:new(conf):call("GET", "v1/namespaces")
    assert.are.equal(200, code, msg)
    return body.headers
  end

  it("carry impersonation: Impersonate-User, -Group (repeated), -Uid, -Extra-<key>", function()
    local h = seen(probe_conf(table.concat({
      "    as: jane",
      "    as-groups: [developers, 'system:authenticated']",
      "    as-uid: \"1234\"",
      "    as-user-extra:",
      "      scopes: [view, edit]",
      "      example.com/team: [blue]",
    }, "\n")))
    assert.are.same({ "jane" }, h["impersonate-user"])
    assert.are.same({ "developers", "system:authenticated" }, h["impersonate-group"])
    assert.are.same({ "1234" }, h["impersonate-uid"])
    assert.are.same({ "view", "edit" }, h["impersonate-extra-scopes"])
    assert.are.same({ "blue" }, h["impersonate-extra-example.com%2fteam"])
    assert.are.same({ "Bearer probe-token" }, h["authorization"])
  end)

  it("send no impersonation headers when none are configured", function()
    local h = seen(probe_conf())
    assert.is_nil(h["impersonate-user"])
    assert.is_nil(h["impersonate-group"])
  end)

  it("ask for gzip (and decode it) unless disable-compression is set", function()
    local h = seen(probe_conf())
    assert.truthy((h["accept-encoding"] or { "" })[1]:find("gzip", 1, true))
    h = seen(probe_conf(nil, "    disable-compression: true"))
    assert.is_nil(h["accept-encoding"])
  end)
end)

describe("timeouts and retries", function()
  local function probe_client(setup_conf, panic)
    local conf = conf_for { server = probe.url, ca_data = false, user = "    token: probe-token" }
    if setup_conf then setup_conf(conf) end
    return api.Client:new(conf, panic)
  end

  local function fault(spec)
    local _, msg, code = probe_client():call("POST", "../testserver/faults", spec)
    assert.are.equal(200, code, msg)
    return #nf.lines(probe.log)
  end

  local function fast(conf) conf:set_retries { backoff = 0.05 } end

  it("retry a GET on 503 until it succeeds", function()
    local before = fault { status = 503, count = 2 }
    local body, msg, code = probe_client(fast):call("GET", "v1/pods")
    assert.are.equal(200, code, msg)
    assert.are.equal("Probe", body.kind)
    assert.are.equal(3, #new_lines(probe.log, before))
  end)

  it("honour Retry-After", function()
    local before = fault { status = 429, retryAfter = 2, count = 1 }
    local t0 = os.time()
    local _, _, code = probe_client(fast):call("GET", "v1/pods")
    assert.are.equal(200, code)
    assert.is_true(os.time() - t0 >= 2)
    assert.are.equal(2, #new_lines(probe.log, before))
  end)

  it("stop after max retries and return the last answer", function()
    local before = fault { status = 504, count = 10 }
    local body, msg, code = probe_client(function(c) c:set_retries { max = 2, backoff = 0.05 } end)
      :call("GET", "v1/pods")
    assert.are.equal(504, code)
    assert.are.equal("injected fault", body.message)
    assert.truthy(msg:find("504", 1, true))
    assert.are.equal(3, #new_lines(probe.log, before))
    fault { count = 0 }
  end)

  it("do not retry POST or PATCH on 503", function()
    local before = fault { status = 503, count = 2 }
    local _, _, code = probe_client(fast):call("POST", "v1/namespaces/default/configmaps", { metadata = { name = "x" } })
    assert.are.equal(503, code)
    local _, _, pcode = probe_client(fast):call("PATCH", "v1/namespaces/default/configmaps/x", { data = {} })
    assert.are.equal(503, pcode)
    assert.are.same({ "POST /api/v1/namespaces/default/configmaps", "PATCH /api/v1/namespaces/default/configmaps/x" },
      new_lines(probe.log, before))
  end)

  it("retry a GET after a connection reset, but not a POST", function()
    local before = fault { reset = true, count = 1 }
    local _, msg, code = probe_client(fast):call("GET", "v1/pods")
    assert.are.equal(200, code, msg)
    assert.are.equal(2, #new_lines(probe.log, before))
    before = fault { reset = true, count = 1 }
    local body, err = probe_client(fast):call("POST", "v1/namespaces/default/configmaps", { metadata = { name = "x" } })
    assert.is_nil(body)
    assert.truthy(err:find("POST " .. probe.url, 1, true), err)
    assert.are.equal(1, #new_lines(probe.log, before))
  end)

  it("can be turned off with max = 0", function()
    local before = fault { status = 503, count = 1 }
    local _, _, code = probe_client(function(c) c:set_retries { max = 0 } end):call("GET", "v1/pods")
    assert.are.equal(503, code)
    assert.are.equal(1, #new_lines(probe.log, before))
  end)

  it("end a call that takes longer than the request timeout", function()
    fault { delay = 3, count = 1 }
    local t0 = os.time()
    local body, msg = probe_client(function(c) c:set_timeouts { request = 0.5 } end):call("GET", "v1/pods")
    assert.is_nil(body)
    assert.truthy(msg:lower():find("timed out", 1, true), msg)
    assert.is_true(os.time() - t0 <= 2)
    os.execute("sleep 3") -- let the probe finish the delayed answer
  end)

  it("check their options", function()
    local conf = conf_for {}
    assert.has_error(function() conf:set_timeouts { conect = 1 } end)
    assert.has_error(function() conf:set_timeouts { request = -1 } end)
    assert.has_error(function() conf:set_retries { max = 1.5 } end)
    assert.has_error(function() conf:set_retries { backoff = 0 } end)
    local ok, err = pcall(conf.set_timeouts, conf, { conect = 1 })
    assert.is_false(ok)
    assert.truthy(err:find('unknown option "conect"', 1, true), err)
    conf:set_timeouts { connect = 2, request = false }
    conf:set_retries { max = 3, backoff = 0.1, max_backoff = 1, budget = 5 }
    -- Settings survive a context switch and are used by new clients.
    conf:context("t")
    assert.are.equal(200, select(3, api.Client:new(conf):corev1():pods("kube-system"):get()))
  end)
end)
