-- Credentials as real clusters hand them out, over HTTPS against the stand-in
-- API server: exec credential plugins (token and client certificate, caching,
-- expiry, 401), in-cluster service accounts, KUBECONFIG lists, relative paths,
-- and kubeconfigs in the styles of EKS, GKE, AKS, OpenShift and kind.
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local testing = require "kube.testing"
local nf = dofile("spec/helpers/netfixture.lua")
local cluster = dofile("spec/helpers/cluster.lua")

local srv, facts

setup(function()
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
  facts = cluster.facts(srv)
end)

teardown(function()
  if srv then srv.stop() end
end)

local function runs(dir)
  return #nf.lines(dir .. "/runs")
end

--- A directory with the test plugin (as bin/plugin.sh, named relatively in
--- the kubeconfig) and a kubeconfig using it. opts: mode, ttl, answer (the
--- apiVersion the plugin answers with), api (the kubeconfig's), interactive,
--- provide_cluster_info, token, next_token, cluster (extra cluster YAML).
local function exec_setup(opts)
  local dir = nf.tmpdir()
  assert(os.execute("mkdir -p " .. dir .. "/bin && cp spec/fixtures/exec/plugin.sh " .. dir .. "/bin/"))
  nf.write(dir .. "/token", opts.token or facts.admin_token)
  if opts.next_token then nf.write(dir .. "/next-token", opts.next_token) end
  if opts.mode == "cert" then
    nf.decode_to(dir .. "/client.crt", facts.cert_data)
    nf.decode_to(dir .. "/client.key", facts.key_data)
  end
  local env = {
    "      - {name: PLUGIN_STATE, value: " .. dir .. "}",
    "      - {name: PLUGIN_MODE, value: " .. (opts.mode or "token") .. "}",
    "      - {name: PLUGIN_API, value: " .. (opts.answer or opts.api or "client.authentication.k8s.io/v1") .. "}",
  }
  if opts.ttl then env[#env + 1] = "      - {name: PLUGIN_TTL, value: \"" .. opts.ttl .. "\"}" end
  local user = {
    "    exec:",
    "      command: bin/plugin.sh",
    "      apiVersion: " .. (opts.api or "client.authentication.k8s.io/v1"),
    "      interactiveMode: " .. (opts.interactive or "Never"),
    "      provideClusterInfo: " .. tostring(opts.provide_cluster_info or false),
    "      env:",
    table.concat(env, "\n"),
  }
  local kc = nf.write(dir .. "/kubeconfig", cluster.kubeconfig(facts, {
    user = table.concat(user, "\n"), cluster = opts.cluster,
  }))
  return dir, kc
end

local function pods_get(conf, panic)
  return api.Client:new(conf, panic):corev1():pods("kube-system"):get()
end

describe("exec credential plugins", function()
  it("run once and their token is cached until it expires", function()
    local dir, kc = exec_setup { ttl = 3600 }
    local conf = config.from_kube_config(kc)
    assert.are.equal(0, runs(dir), "the plugin runs lazily, on the first request")
    for _ = 1, 3 do
      local items, _, code = pods_get(conf)
      assert.are.equal(200, code)
      assert.are.equal(2, #items)
    end
    assert.are.equal(1, runs(dir))
    -- A second client of the same config shares the cached credential.
    assert.are.equal(200, select(3, pods_get(conf)))
    assert.are.same({ authorization = "Bearer " .. facts.admin_token }, conf:headers())
    assert.are.equal(1, runs(dir))
    assert.truthy(tostring(conf):find("exec plugin", 1, true))
  end)

  it("run again once the credential has expired", function()
    local dir, kc = exec_setup { ttl = 0 }
    local conf = config.from_kube_config(kc)
    for _ = 1, 3 do assert.are.equal(200, select(3, pods_get(conf))) end
    assert.are.equal(3, runs(dir))
  end)

  it("run again once after a 401 and the request is retried", function()
    local dir, kc = exec_setup { token = "revoked", next_token = facts.admin_token }
    local conf = config.from_kube_config(kc)
    local items, _, code = pods_get(conf)
    assert.are.equal(200, code)
    assert.are.equal(2, #items)
    assert.are.equal(2, runs(dir))
    assert.are.equal(200, select(3, pods_get(conf)))
    assert.are.equal(2, runs(dir))
  end)

  it("give up after that one re-run when the server still says 401", function()
    local dir, kc = exec_setup { token = "revoked" }
    local st, msg, code = pods_get(config.from_kube_config(kc))
    assert.are.equal(401, code)
    assert.are.equal("Unauthorized", st.reason)
    assert.truthy(msg:find("401", 1, true))
    assert.are.equal(2, runs(dir))
  end)

  it("can hand out a client certificate used as the TLS identity", function()
    local dir, kc = exec_setup { mode = "cert", ttl = 3600 }
    local conf = config.from_kube_config(kc)
    assert.are.same({}, conf:headers())
    local cms = api.Client:new(conf):corev1():configmaps("default")
    local obj, _, code = cms:create { metadata = { name = "from-exec-cert" } }
    assert.are.equal(201, code, tostring(_))
    assert.are.equal("from-exec-cert", obj:name())
    assert.are.equal(200, select(3, cms:delete("from-exec-cert")))
    assert.are.equal(1, runs(dir))
  end)

  it("speak v1beta1 and reject an answer in another apiVersion", function()
    local _, kc = exec_setup { api = "client.authentication.k8s.io/v1beta1" }
    assert.are.equal(200, select(3, pods_get(config.from_kube_config(kc))))
    local _, kc2 = exec_setup { answer = "client.authentication.k8s.io/v1beta1" }
    local body, msg = pods_get(config.from_kube_config(kc2))
    assert.is_nil(body)
    assert.truthy(msg:find("apiVersion", 1, true), msg)
    assert.is_nil(msg:find(facts.admin_token, 1, true))
  end)

  it("receive KUBERNETES_EXEC_INFO, with the cluster only when provideClusterInfo is set", function()
    local ext = "    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension: {audience: test-cluster}"
    local dir, kc = exec_setup { provide_cluster_info = true, cluster = ext }
    assert.are.equal(200, select(3, pods_get(config.from_kube_config(kc))))
    local info = core.json_decode(nf.read(dir .. "/exec-info.json"))
    assert.are.equal("ExecCredential", info.kind)
    assert.are.equal("client.authentication.k8s.io/v1", info.apiVersion)
    assert.are.equal(false, info.spec.interactive)
    assert.are.equal(srv.url, info.spec.cluster.server)
    assert.are.equal(facts.ca_data, info.spec.cluster["certificate-authority-data"])
    assert.are.same({ audience = "test-cluster" }, info.spec.cluster.config)

    local dir2, kc2 = exec_setup {}
    assert.are.equal(200, select(3, pods_get(config.from_kube_config(kc2))))
    info = core.json_decode(nf.read(dir2 .. "/exec-info.json"))
    assert.is_nil(info.spec.cluster)
  end)

  it("report a failing plugin with its command, exit code and stderr", function()
    local dir, kc = exec_setup { mode = "fail" }
    local body, msg = pods_get(config.from_kube_config(kc))
    assert.is_nil(body)
    assert.truthy(msg:find(dir .. "/bin/plugin.sh", 1, true), msg)
    assert.truthy(msg:find("exit code 7", 1, true), msg)
    assert.truthy(msg:find("no credentials left", 1, true), msg)
    local ok, err = pcall(pods_get, config.from_kube_config(kc), true)
    assert.is_false(ok)
    assert.truthy(err:find("exit code 7", 1, true), err)
  end)

  it("show installHint when the command is missing", function()
    local dir, kc = exec_setup {}
    local text = nf.read(kc):gsub("command: bin/plugin.sh",
      "command: no-such-auth-plugin\n      installHint: |\n        Install no-such-auth-plugin from your cloud's SDK.")
    nf.write(kc, text)
    local body, msg = pods_get(config.from_kube_config(kc))
    assert.is_nil(body)
    assert.truthy(msg:find("no-such-auth-plugin", 1, true), msg)
    assert.truthy(msg:find("Install no-such-auth-plugin from your cloud's SDK.", 1, true), msg)
    assert.are.equal(0, runs(dir))
  end)

  it("refuse interactiveMode Always without a terminal on stdin", function()
    local dir, kc = exec_setup { interactive = "Always" }
    local tty = os.execute("test -t 0")
    tty = tty == true or tty == 0
    local body, msg = pods_get(config.from_kube_config(kc))
    if tty then
      assert.truthy(body, msg)
      assert.are.equal(1, runs(dir))
    else
      assert.is_nil(body)
      assert.truthy(msg:find("interactiveMode is Always, but stdin is not a terminal", 1, true), msg)
      assert.are.equal(0, runs(dir))
    end
  end)

  it("must name interactiveMode in v1 and a known apiVersion", function()
    local _, kc = exec_setup {}
    local text = nf.read(kc)
    nf.write(kc, (text:gsub("      interactiveMode: Never\n", "")))
    local ok, err = pcall(config.from_kube_config, kc)
    assert.is_false(ok)
    assert.truthy(err:find("interactiveMode must be set", 1, true), err)
    nf.write(kc, (text:gsub("authentication.k8s.io/v1\n", "authentication.k8s.io/v1alpha1\n")))
    ok, err = pcall(config.from_kube_config, kc)
    assert.is_false(ok)
    assert.truthy(err:find("v1alpha1", 1, true), err)
  end)
end)

describe("tokenFile", function()
  it("is re-read on every request, so a rotated token is used at once", function()
    local dir = nf.tmpdir()
    nf.write(dir .. "/token", facts.admin_token .. "\n")
    local kc = nf.write(dir .. "/config", cluster.kubeconfig(facts, { user = "    tokenFile: token" }))
    local cms = api.Client:new(config.from_kube_config(kc)):corev1():configmaps("default")
    assert.are.equal(201, select(3, cms:create { metadata = { name = "token-file" } }))
    nf.write(dir .. "/token", facts.viewer_token)
    assert.are.equal(403, select(3, cms:create { metadata = { name = "token-file-2" } }))
    assert.are.equal(200, select(3, cms:get("token-file")))
    nf.write(dir .. "/token", facts.admin_token)
    assert.are.equal(200, select(3, cms:delete("token-file")))
  end)
end)

describe("in-cluster config", function()
  local function sa_dir(with_namespace)
    local dir = nf.tmpdir()
    nf.write(dir .. "/token", facts.admin_token .. "\n")
    nf.decode_to(dir .. "/ca.crt", facts.ca_data)
    if with_namespace then nf.write(dir .. "/namespace", "kube-system") end
    return dir
  end

  it("uses KUBERNETES_SERVICE_HOST/PORT, ca.crt, the namespace file and re-reads the token", function()
    local dir = sa_dir(true)
    local ok, out = nf.run_lua(dir, { KUBERNETES_SERVICE_HOST = "127.0.0.1", KUBERNETES_SERVICE_PORT = facts.port }, [[
      local config, api = require "kube.config", require "kube.api"
      local dir = "]] .. dir .. [["
      local conf = config.in_cluster_config(dir)
      print("server " .. conf:server_addr())
      print("namespace " .. conf:namespace())
      local pods = api.Client:new(conf):corev1():pods(conf:namespace())
      print("pods " .. #pods:get())
      local cms = api.Client:new(conf):corev1():configmaps("default")
      print("create " .. select(3, cms:create { metadata = { name = "in-cluster" } }))
      local f = assert(io.open(dir .. "/token", "w")); f:write("]] .. facts.viewer_token .. [["); f:close()
      print("after rotation " .. select(3, cms:create { metadata = { name = "in-cluster-2" } }))
      print("from_token " .. config.from_token("t"):server_addr())
    ]])
    assert.is_true(ok, out)
    assert.truthy(out:find("server https://127.0.0.1:" .. facts.port .. "\n", 1, true), out)
    assert.truthy(out:find("namespace kube-system\n", 1, true), out)
    assert.truthy(out:find("pods 2\n", 1, true), out)
    assert.truthy(out:find("create 201\n", 1, true), out)
    assert.truthy(out:find("after rotation 403\n", 1, true), out)
    assert.truthy(out:find("from_token https://127.0.0.1:" .. facts.port .. "\n", 1, true), out)
  end)

  it("brackets an IPv6 service host and defaults the namespace", function()
    local dir = sa_dir(false)
    local ok, out = nf.run_lua(dir, { KUBERNETES_SERVICE_HOST = "fd00::1", KUBERNETES_SERVICE_PORT = "443" }, [[
      local conf = require("kube.config").in_cluster_config("]] .. dir .. [[")
      print(conf:server_addr() .. " " .. conf:namespace())
    ]])
    assert.is_true(ok, out)
    assert.are.equal("https://[fd00::1]:443 default\n", out)
  end)

  it("says which file is missing", function()
    local dir = nf.tmpdir()
    local ok, out = nf.run_lua(dir, { KUBERNETES_SERVICE_HOST = "10.0.0.1", KUBERNETES_SERVICE_PORT = "443" }, [[
      local ok, err = pcall(require("kube.config").in_cluster_config, "]] .. dir .. [[")
      print(err)
    ]])
    assert.is_true(ok, out)
    assert.truthy(out:find(dir .. "/token", 1, true), out)
  end)
end)

describe("KUBECONFIG", function()
  it("merges several files, the first definition winning, paths relative to each file", function()
    local a, b = nf.tmpdir(), nf.tmpdir()
    nf.write(a .. "/token", facts.admin_token)
    nf.write(a .. "/config", [[
current-context: merged
contexts:
- name: merged
  context: {cluster: testserver, user: from-a, namespace: kube-system}
users:
- name: from-a
  user: {tokenFile: token}
]])
    nf.write(b .. "/config", nf.read(srv.kubeconfig) .. [[
- name: from-a
  user: {token: shadowed}
]])
    local list = a .. "/config:" .. a .. "/missing:" .. b .. "/config"
    local ok, out = nf.run_lua(a, { KUBECONFIG = list }, [[
      local config, api = require "kube.config", require "kube.api"
      local conf = config.from_kube_config()
      print("context " .. conf:context() .. " " .. conf:namespace())
      print("contexts " .. table.concat(conf:contexts(), ","))
      print("users " .. table.concat(conf:usernames(), ","))
      local items, _, code = api.Client:new(conf):corev1():pods(conf:namespace()):get()
      print("pods " .. code .. " " .. #items)
      conf:context("testserver-basic")
      print("basic " .. select(3, api.Client:new(conf):corev1():pods("kube-system"):get()))
    ]])
    assert.is_true(ok, out)
    assert.truthy(out:find("context merged kube-system\n", 1, true), out)
    assert.truthy(out:find("contexts merged,testserver,testserver-cert,testserver-basic,testserver-readonly\n", 1, true), out)
    assert.truthy(out:find("users from-a,admin,admin-cert,admin-basic,viewer\n", 1, true), out)
    assert.truthy(out:find("pods 200 2\n", 1, true), out)
    assert.truthy(out:find("basic 200\n", 1, true), out)
  end)

  it("falls back to $HOME/.kube/config", function()
    local home = nf.tmpdir()
    assert(os.execute("mkdir -p " .. home .. "/.kube"))
    nf.write(home .. "/.kube/config", nf.read(srv.kubeconfig))
    local ok, out = nf.run_lua(home, { HOME = home, KUBECONFIG = "" }, [[
      local conf = require("kube.config").from_kube_config()
      print(conf:context() .. " " .. conf:server_addr())
    ]])
    assert.is_true(ok, out)
    assert.are.equal("testserver " .. srv.url .. "\n", out)
  end)

  it("resolves relative certificate files against the kubeconfig's directory", function()
    local dir = nf.tmpdir()
    assert(os.execute("mkdir -p " .. dir .. "/pki"))
    nf.decode_to(dir .. "/pki/ca.crt", facts.ca_data)
    nf.decode_to(dir .. "/pki/admin.crt", facts.cert_data)
    nf.decode_to(dir .. "/pki/admin.key", facts.key_data)
    local kc = nf.write(dir .. "/config", cluster.kubeconfig(facts, {
      ca_data = false,
      cluster = "    certificate-authority: pki/ca.crt",
      user = "    client-certificate: pki/admin.crt\n    client-key: pki/admin.key",
    }))
    local conf = config.from_kube_config(kc)
    assert.are.equal(dir .. "/pki/admin.crt", conf:cert())
    assert.are.equal(dir .. "/pki/admin.key", conf:key())
    assert.are.equal(200, select(3, pods_get(conf)))
  end)
end)

describe("kubeconfigs in the style of", function()
  local function fixture(name, subst)
    local text = nf.read("spec/fixtures/kubeconfigs/" .. name .. ".yaml")
    for k, v in pairs(subst or {}) do text = text:gsub("@" .. k .. "@", v) end
    local dir = nf.tmpdir()
    return nf.write(dir .. "/config", text)
  end

  it("kind (client certificate data) talk to the server", function()
    local conf = config.from_kube_config(fixture("kind", {
      SERVER = srv.url, CA_DATA = facts.ca_data, CERT_DATA = facts.cert_data, KEY_DATA = facts.key_data,
    }))
    assert.are.equal("kind-kind", conf:context())
    assert.is_nil(conf:cert())
    assert.are.equal(200, select(3, pods_get(conf)))
  end)

  it("OpenShift (token from oc login) talk to the server", function()
    local conf = config.from_kube_config(fixture("openshift", {
      SERVER = srv.url, CA_DATA = facts.ca_data, TOKEN = facts.admin_token,
    }))
    assert.are.equal("default/api-crc-testing:6443/kubeadmin", conf:context())
    assert.are.equal("kubeadmin/api-crc-testing:6443", conf:username())
    assert.are.equal("default", conf:namespace())
    assert.are.equal(200, select(3, pods_get(conf)))
  end)

  it("EKS runs `aws eks get-token` with its args and env (a stand-in aws on PATH)", function()
    local text = nf.read("spec/fixtures/kubeconfigs/eks.yaml")
      :gsub("certificate%-authority%-data: %S+", "certificate-authority-data: " .. facts.ca_data)
      :gsub("server: %S+", "server: " .. srv.url)
    local dir = nf.tmpdir()
    local kc = nf.write(dir .. "/config", text)
    local token_file = nf.write(dir .. "/aws-token", facts.admin_token)
    local env = {
      PATH = nf.cwd() .. "/spec/fixtures/exec/bin:" .. os.getenv("PATH"),
      FAKE_AWS_TOKEN_FILE = token_file,
    }
    local ok, out = nf.run_lua(dir, env, [[
      local config, api = require "kube.config", require "kube.api"
      local conf = config.from_kube_config("]] .. kc .. [[")
      local items, msg, code = api.Client:new(conf):corev1():pods("kube-system"):get()
      print(code, code == 200 and #items or msg)
    ]])
    assert.is_true(ok, out)
    assert.are.equal("200\t2\n", out)
  end)

  for name, want in pairs {
    eks = { command = "aws", server = "https://0123456789ABCDEF0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com" },
    gke = { command = "gke-gcloud-auth-plugin", server = "https://34.118.0.10", hint = "cluster-access-for-kubectl#install_plugin" },
    aks = { command = "kubelogin", server = "https://demo-dns-12345678.hcp.westeurope.azmk8s.io:443", hint = "azure.github.io/kubelogin" },
  } do
    it(name:upper() .. " (exec plugin) load and name the plugin when it is not installed", function()
      local conf = config.from_kube_config(fixture(name))
      assert.are.equal(want.server, conf:server_addr())
      assert.truthy(tostring(conf):find("exec plugin", 1, true))
      -- Loading runs nothing; the first request would run the plugin.
      local ok, err = pcall(conf.headers, conf)
      assert.is_false(ok)
      assert.truthy(err:find('exec plugin "' .. want.command .. '"', 1, true), err)
      -- A machine may have the plugin (gcloud's SDK brings gke-gcloud-auth-plugin):
      -- then it runs and fails without an account, and its stderr is shown.
      if err:find("cannot run it", 1, true) then
        if want.hint then assert.truthy(err:find(want.hint, 1, true), err) end
      else
        assert.truthy(err:find("failed with exit code", 1, true), err)
      end
    end)
  end
end)
