-- The allow-list: every way this module may differ from luakube 0.1, each a
-- documented fix (README "Differences from luakube" says the same in words).
-- A rule is { id, why, match(call, lk, mod, tag, text) }; `tag` is the kind of
-- the first difference compare.lua found (raised_there, raised_here, url,
-- method, header, extra_header, body, return_*, returns, unreachable).
-- A difference no rule matches fails the test.
local M = {}

local function name_arg(call) return call.args and call.args[1] end
local function is_call(call) return call.method == "call" or call.method == "raw_call" end

-- Names that are not one URL path segment. Security rule (issue 15/16): they
-- are refused, or percent-encoded, before any URL is built; luakube pasted
-- them into the URL, where `..` or `.` climbed to the parent collection.
local function not_a_segment(v)
  return type(v) == "string" and (v == "" or v == "." or v == ".." or v:find("[/#?%%%s]") ~= nil)
end

M.rules = {
  {
    id = "not-a-path-segment",
    why = "security: names '', '.', '..' and names with / # ? % or spaces never reach the URL as given",
    match = function(call, _, _, tag)
      return (tag == "raised_here" or tag == "url" or tag == "request_count")
        and (not_a_segment(name_arg(call)) or (call.pod and not_a_segment(call.pod)))
        and not is_call(call)
    end,
  },
  {
    id = "empty-namespace",
    why = "security: namespace '' is no namespace; luakube built /namespaces//pods (an empty path segment)",
    match = function(call)
      return call.ns ~= nil and call.ns.n > 0 and call.ns[1] == ""
    end,
  },
  {
    id = "method-upper-case",
    why = "fix: call/raw_call upper-case the method; luakube sent 'get' as given, which API servers answer 405",
    match = function(_, lk, mod, tag)
      if tag ~= "method" then return false end
      for i, r in ipairs(lk.requests) do
        if r.method:upper() ~= mod.requests[i].method then return false end
      end
      return true
    end,
  },
  {
    id = "path-joined-with-slash",
    why = "fix: a call path without a leading '/' (or a number) is joined with one '/'; luakube glued it (/api/v1/pods5)",
    match = function(call, lk, mod, tag)
      if tag ~= "url" or not is_call(call) then return false end
      local p = call.args[2]
      return type(p) == "number" or (type(p) == "string" and p ~= "" and p:sub(1, 1) ~= "/")
    end,
  },
  {
    id = "config-without-server",
    why = "fix: a config without a server (Config:new{}, from_token outside a pod) raises when a client is made; luakube sent requests to 'nil/api/...'",
    match = function(call, _, mod, tag)
      local c = call.conf or (call.target and call.target.conf)
      return (c == "new_empty" or c == "new_nil" or c == "from_token") and tag == "raised_here"
        and (mod.raised:find("no server address", 1, true) ~= nil)
    end,
  },
  {
    id = "persistentvolumes-cluster-scoped",
    why = "fix: pv() without a namespace is cluster-scoped (/api/v1/persistentvolumes/x); luakube declared pv namespaced and asserted",
    match = function(call, lk, _, tag)
      if call.res ~= "pv" and call.res ~= "persistentvolumes" then return false end
      if tag == "raised_there" then return lk.raised:find("providing namespace", 1, true) ~= nil end
      -- writes through pv(): luakube used obj.metadata.namespace in the URL
      return tag == "url" and call.ns.n == 0 or (call.ns.n > 0 and not call.ns[1])
    end,
  },
  {
    id = "string-body-as-is",
    why = "fix: a string patch/body is sent as the JSON or YAML text it is; luakube JSON-encoded it into a quoted string",
    match = function(call, lk, _, tag)
      if tag ~= "body" then return false end
      for _, r in ipairs(lk.requests) do
        if r.body and type(r.body.json) == "string" then return true end
      end
      return false
    end,
  },
  {
    id = "patch-content-types",
    why = "fix: style 'strategic' sends application/strategic-merge-patch+json (luakube's strategic-patch+json is rejected by every server); 'apply' sends application/apply-patch+yaml (server-side apply)",
    match = function(_, _, _, tag, text)
      return tag == "header" and (text:find("strategic-patch+json", 1, true) ~= nil
        or text:find("apply-patch+json", 1, true) ~= nil)
    end,
  },
  {
    id = "object-namespace-required",
    why = "fix: create/update of a namespaced object through a client without a namespace needs obj.metadata.namespace; luakube sent it to namespace 'nil'",
    match = function(call, lk, mod, tag)
      if tag ~= "raised_here" or not mod.raised:find("set obj.metadata.namespace", 1, true) then return false end
      local r = lk.requests[1]
      return r ~= nil and r.url:find("/namespaces/nil/", 1, true) ~= nil
    end,
  },
  {
    id = "empty-query",
    why = "representation: an empty query table adds no '?' to the URL (luakube left a bare '?')",
    match = function(_, lk, mod, tag)
      if tag ~= "url" then return false end
      for i, r in ipairs(lk.requests) do
        if r.url:gsub("%?$", "") ~= mod.requests[i].url then return false end
      end
      return true
    end,
  },
  {
    id = "ephemeral-get-query",
    why = "fix: ephemeralcontainers(name):get(query) sends its query; luakube's get took none",
    match = function(call, _, _, tag)
      return call.level == "ephemeral" and call.method == "get" and tag == "url"
    end,
  },
  {
    id = "name-not-a-string",
    why = "fix: a by-name call (status, patch, delete, logs, scale…) whose name is nil, a boolean or a table raises naming the call; luakube formatted it into the URL (…/pods/nil/status, …/pods/table: 0x…)",
    match = function(call, _, mod, tag)
      local n = name_arg(call)
      return tag == "raised_here" and (n == nil or type(n) == "boolean" or type(n) == "table")
        and mod.raised:find("name must be", 1, true) ~= nil
    end,
  },
  {
    id = "luakube-crashed",
    why = "the guide's rule: a call that crashed in luakube (index/call/concatenate nil, bad argument) works here",
    match = function(_, lk, _, tag)
      return tag == "raised_there" and (lk.raised:find("attempt to", 1, true) ~= nil
        or lk.raised:find("bad argument", 1, true) ~= nil)
    end,
  },
}

-- Differences a mock-mode call cannot show (mock mode sends nothing and each
-- generated call gets a fresh client); listed so this file is the whole list
-- the README gives. Each is tested where it shows.
M.unobservable = {
  { id = "own-base-per-group", why = "each group client keeps its own URL base; luakube's were shared and overwrote each other (spec/mock_calls_spec.lua)" },
  { id = "keys-in-memory", why = "inline client keys stay in memory; luakube wrote them to /tmp (spec/hardening_secrets_spec.lua)" },
  { id = "tls-verified", why = "TLS verified against the cluster CA, one keep-alive connection per client; luakube used verify = none (spec/system_spec.lua)" },
  { id = "from-token-server", why = "from_token(token, server) takes a server; in_cluster_config uses KUBERNETES_SERVICE_HOST/PORT and ca.crt (spec/config_spec.lua)" },
  { id = "kubeconfig-complete", why = "KUBECONFIG lists are merged; exec plugins, proxies, impersonation work (spec/credentials_spec.lua)" },
  { id = "transport-failure", why = "a transport failure is nil, message; luakube crashed (spec/connection_spec.lua)" },
  { id = "private-fields-read-only", why = "luakube's private fields path_, api_, namespaced_, client_ are read-only here; token_ is not readable (secrets stay in Rust memory)" },
}

function M.match(call, lk, mod, tag, text)
  for _, r in ipairs(M.rules) do
    if r.match(call, lk, mod, tag, text) then return r.id end
  end
  return nil
end

return M
