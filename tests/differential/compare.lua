-- Compares the records of luakube and of this module call by call.
--   lua5.4 compare.lua CALLS RECORDS_LUAKUBE RECORDS_MODULE [--show N]
-- Identical: same raise/no-raise, same requests (method, URL, headers without
-- Authorization/Content-Length, body as JSON), same return shapes (every
-- object method luakube's value has is reachable here), same reachable methods.
-- Every other difference must match an entry of allow.lua (each one a
-- documented fix, with its reason); the rest fail.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local common = require "common"
local allow = require "allow"

local calls = common.read(arg[1])
table.remove(calls, 1) -- header
local lk, mod = common.read(arg[2]), common.read(arg[3])
local show = 0
for i = 4, #arg do if arg[i] == "--show" then show = tonumber(arg[i + 1]) end end

local same = require("common").serialize

-- the first difference between two records, as a short tag and text; nil when identical
local function subset(a, b)
  local set = {}
  for _, x in ipairs(b or {}) do set[x] = true end
  local missing = {}
  for _, x in ipairs(a or {}) do if not set[x] then missing[#missing + 1] = x end end
  return #missing == 0, missing
end

local function difference(call, a, b)
  if a.raised and not b.raised then return "raised_there", a.raised end
  if b.raised and not a.raised then return "raised_here", b.raised end
  if a.raised and b.raised then return nil end
  if #a.requests ~= #b.requests then
    return "request_count", string.format("%d request(s) there, %d here", #a.requests, #b.requests)
  end
  for i, ra in ipairs(a.requests) do
    local rb = b.requests[i]
    if ra.method ~= rb.method then return "method", ra.method .. " vs " .. rb.method end
    if ra.url ~= rb.url then return "url", ra.url .. "  vs  " .. rb.url end
    for k, v in pairs(ra.headers) do
      if rb.headers[k] ~= v then return "header", k .. ": " .. v .. " vs " .. tostring(rb.headers[k]) end
    end
    for k, v in pairs(rb.headers) do
      if ra.headers[k] == nil then return "extra_header", k .. ": " .. v end
    end
    if same(ra.body) ~= same(rb.body) then return "body", same(ra.body) .. "  vs  " .. same(rb.body) end
  end
  local level = call.level
  if level == "reach" then
    local ok, missing = subset(a.returns[1], b.returns[1])
    if not ok then return "unreachable", table.concat(missing, ",") end
    return nil
  end
  if level == "construct" or level == "config" or level == "objects" or level == "objects_fn" or level == "script" then
    if same(a.returns) ~= same(b.returns) then return "returns", same(a.returns) .. "  vs  " .. same(b.returns) end
    return nil
  end
  for i = 1, 3 do
    local x, y = a.returns[i], b.returns[i]
    if (x and x.type) ~= (y and y.type) then
      return "return_type", string.format("return %d: %s vs %s", i, tostring(x and x.type), tostring(y and y.type))
    end
    if x and x.methods then
      local ok, missing = subset(x.methods, y.methods)
      if not ok then return "return_methods", string.format("return %d lacks %s", i, table.concat(missing, ",")) end
    end
    if x and x.value ~= nil and x.value ~= y.value then
      return "return_value", string.format("return %d: %s vs %s", i, tostring(x.value), tostring(y.value))
    end
  end
  return nil
end

local function describe_call(call)
  local parts = { call.level, call.conf or "", call.group or "", call.res or "" }
  if call.ns then parts[#parts + 1] = "ns=" .. same(call.ns) end
  parts[#parts + 1] = (call.method or call.name or "") .. same(call.args or {})
  return (table.concat(parts, " "):gsub("\n", "\\n"))
end

local counts = { compared = 0, identical = 0, allowed = 0, failing = 0 }
local by_rule, failing_by_tag = {}, {}
local shown = 0
for i, call in ipairs(calls) do
  local a, b = lk[i], mod[i]
  assert(a.id == call.id + 0 and b.id == call.id + 0, "records out of step at " .. i)
  counts.compared = counts.compared + 1
  local tag, text = difference(call, a, b)
  if not tag then
    counts.identical = counts.identical + 1
  else
    local rule = allow.match(call, a, b, tag, text)
    if rule then
      counts.allowed = counts.allowed + 1
      by_rule[rule] = (by_rule[rule] or 0) + 1
    else
      counts.failing = counts.failing + 1
      failing_by_tag[tag] = (failing_by_tag[tag] or 0) + 1
      if shown < show then
        shown = shown + 1
        print(string.format("FAIL #%d [%s] %s\n    %s", call.id, tag, describe_call(call), (text:gsub("\n", "\\n"))))
      end
    end
  end
end

print(string.format("compared %d, identical %d, allowed %d, failing %d",
  counts.compared, counts.identical, counts.allowed, counts.failing))
local rules = {}
for r in pairs(by_rule) do rules[#rules + 1] = r end
table.sort(rules)
for _, r in ipairs(rules) do print(string.format("  allowed %-28s %d", r, by_rule[r])) end
local tags = {}
for t in pairs(failing_by_tag) do tags[#tags + 1] = t end
table.sort(tags)
for _, t in ipairs(tags) do print(string.format("  failing %-28s %d", t, failing_by_tag[t])) end
print(string.format("differential: %d passed, %d failed", counts.identical + counts.allowed, counts.failing))
os.exit(counts.failing == 0 and 0 or 1)
