-- kube.config: valid kubeconfigs of each credential form and broken files,
-- each broken one giving an error that names the file and what is wrong.
local config = require "kube.config"

local tmp = os.tmpname()
os.remove(tmp)
os.execute("mkdir -p " .. tmp)

local function write(name, text)
  local path = tmp .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- "hello" is not a certificate; parsing only stores it, the transport checks it.
local GOOD = [[
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.1.2.3:6443
    certificate-authority-data: aGVsbG8=
- name: c2
  cluster:
    server: https://other:443
    insecure-skip-tls-verify: true
contexts:
- name: dev
  context: {cluster: c1, user: tok, namespace: team-a}
- name: files
  context: {cluster: c2, user: certfiles}
- name: basic
  context: {cluster: c2, user: pw}
- name: tf
  context: {cluster: c1, user: tokenfile}
users:
- name: tok
  user: {token: sekret-token}
- name: certfiles
  user: {client-certificate: client.crt, client-key: client.key}
- name: pw
  user: {username: admin, password: hunter2}
- name: tokenfile
  user: {tokenFile: token.txt}
]]

describe("kube.config.from_kube_config", function()
  write("client.crt", "not really a cert")
  write("client.key", "not really a key")
  write("token.txt", "file-token\n")
  local path = write("config", GOOD)

  it("reads contexts, clusters and users in file order", function()
    local conf = config.from_kube_config(path)
    assert.are.same({ "dev", "files", "basic", "tf" }, conf:contexts())
    assert.are.same({ "c1", "c2" }, conf:clusters())
    assert.are.same({ "tok", "certfiles", "pw", "tokenfile" }, conf:usernames())
    assert.are.equal("dev", conf:context())
    assert.are.equal("c1", conf:cluster())
    assert.are.equal("tok", conf:username())
    assert.are.equal("https://10.1.2.3:6443", conf:server_addr())
    assert.are.equal("team-a", conf:namespace())
    assert.are.same({ authorization = "Bearer sekret-token" }, conf:headers())
    assert.is_nil(conf:cert())
    assert.is_nil(conf:key())
  end)

  it("switches context and re-reads server and credentials", function()
    local conf = config.from_kube_config(path)
    assert.are.equal("files", conf:context("files"))
    assert.are.equal("https://other:443", conf:server_addr())
    assert.are.same({}, conf:headers())
    assert.are.equal(tmp .. "/client.crt", conf:cert())
    assert.are.equal(tmp .. "/client.key", conf:key())
    assert.are.equal("default", conf:namespace(), "a context without a namespace")
    conf:context("tf")
    assert.are.same({ authorization = "Bearer file-token" }, conf:headers())
    conf:context("basic")
    assert.are.same({}, conf:headers())
  end)

  it("takes a context as second argument", function()
    local conf = config.from_kube_config(path, "basic")
    assert.are.equal("pw", conf:username())
  end)

  it("defaults to $KUBECONFIG / $HOME/.kube/config", function()
    -- from_kube_config() with no path must look somewhere and say where.
    local ok, err = pcall(config.from_kube_config, tmp .. "/nope")
    assert.is_false(ok)
    assert.truthy(err:find(tmp .. "/nope", 1, true))
  end)

  local function fails_with(text, ...)
    local p = write("broken-" .. tostring(math.random(1e9)), text)
    local ok, err = pcall(config.from_kube_config, p, ...)
    assert.is_false(ok)
    assert.are.equal("string", type(err))
    assert.truthy(err:find(p, 1, true), "error does not name the file: " .. err)
    return err
  end

  it("rejects broken files with clear errors", function()
    assert.truthy(fails_with(""):find("empty"))
    assert.truthy(fails_with("clusters: [\n"):find("malformed YAML"))
    assert.truthy(fails_with(GOOD, "nope"):find('context "nope" not found'))
    assert.truthy(fails_with((GOOD:gsub("current%-context: dev\n", ""))):find("no current%-context"))
    assert.truthy(fails_with((GOOD:gsub("cluster: c1, user: tok", "cluster: zz, user: tok"))):find('cluster "zz"'))
    assert.truthy(fails_with((GOOD:gsub("cluster: c1, user: tok", "cluster: c1, user: ghost"))):find('user "ghost"'))
    assert.truthy(fails_with((GOOD:gsub("token: sekret%-token", "foo: bar"))):find("no usable credentials"))
    assert.truthy(fails_with((GOOD:gsub("aGVsbG8=", "not~base64"))):find("not valid base64"))
    assert.truthy(fails_with((GOOD:gsub("client%.key}", "missing.key}")), "files"):find("missing.key"))
    assert.truthy(fails_with((GOOD:gsub("server: https://10.1.2.3:6443\n", ""))):find("no server"))
  end)

  it("never puts a secret into an error message", function()
    local err = fails_with((GOOD:gsub("aGVsbG8=", "not~base64")))
    assert.is_nil(err:find("sekret-token", 1, true))
    assert.is_nil(err:find("hunter2", 1, true))
  end)
end)

describe("kube.config.from_token and in_cluster_config", function()
  it("from_token takes a server and says when none is known", function()
    local conf = config.from_token("abc", "https://k8s.example:6443")
    assert.are.equal("https://k8s.example:6443", conf:server_addr())
    assert.are.same({ authorization = "Bearer abc" }, conf:headers())
    local ok, err = pcall(config.from_token, "abc")
    assert.is_false(ok)
    assert.truthy(err:find("no server address known"))
    assert.is_false(pcall(config.from_token, nil))
  end)

  it("in_cluster_config says what is missing outside a pod", function()
    local ok, err = pcall(config.in_cluster_config)
    assert.is_false(ok)
    assert.truthy(err:find("KUBERNETES_SERVICE_HOST"))
  end)
end)
