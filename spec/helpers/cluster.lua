-- Kubeconfigs for the stand-in API server with chosen users and cluster
-- settings, built from the kubeconfig the server writes (its CA, tokens, and
-- client certificate).
local nf = dofile("spec/helpers/netfixture.lua")
local api = require "kube.api"
local config = require "kube.config"

local M = {}

--- A client of the server's admin user, from the kubeconfig the server wrote.
function M.admin(srv)
  return api.Client:new(config.from_kube_config(srv.kubeconfig))
end

--- Adds a fault rule (POST /testserver/faults); fails unless the server took it.
function M.fault(srv, rule)
  local _, msg, code = M.admin(srv):call("POST", "../testserver/faults", rule)
  -- Plain error: this file runs outside busted's environment (no luassert).
  if code ~= 200 then error(("fault rule not taken: %s %s"):format(tostring(code), tostring(msg)), 2) end
end

--- The secrets and addresses of a running `kube.testing` server.
function M.facts(srv)
  local text = assert(nf.read(srv.kubeconfig))
  local f = {
    url = srv.url,
    port = srv.url:match(":(%d+)$"),
    ca_data = text:match("certificate%-authority%-data: (%S+)"),
    admin_token = text:match("name: admin\n  user: {token: (%x+)}"),
    viewer_token = text:match("name: viewer\n  user: {token: (%x+)}"),
    cert_data = text:match("client%-certificate%-data: (%S+)"),
    key_data = text:match("client%-key%-data: (%S+)"),
  }
  for k, v in pairs(f) do assert(v, "kubeconfig of the test server: no " .. k) end
  return f
end

--- A kubeconfig with one context "t" on cluster "c" and user "u".
--- opts: server, ca_data (false: none), cluster (extra YAML lines, 4-space indent),
--- user (YAML lines, 4-space indent), namespace.
function M.kubeconfig(facts, opts)
  local cluster = { "    server: " .. (opts.server or facts.url) }
  if opts.ca_data ~= false then cluster[#cluster + 1] = "    certificate-authority-data: " .. facts.ca_data end
  if opts.cluster then cluster[#cluster + 1] = opts.cluster end
  local ns = opts.namespace and (", namespace: " .. opts.namespace) or ""
  return table.concat({
    "apiVersion: v1",
    "kind: Config",
    "current-context: t",
    "clusters:",
    "- name: c",
    "  cluster:",
    table.concat(cluster, "\n"),
    "contexts:",
    "- name: t",
    "  context: {cluster: c, user: u" .. ns .. "}",
    "users:",
    "- name: u",
    "  user:",
    opts.user or ("    token: " .. facts.admin_token),
    "",
  }, "\n")
end

return M
