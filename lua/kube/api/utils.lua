--- luakube's `kube.api.utils`: how its users add a resource (a CRD, or one the
--- module lacks) to a group, and a group of their own:
---
---   local utils = require "kube.api.utils"
---   local core_v1 = require "kube.api.core_v1"
---   core_v1.Client.widgets = utils.generate_object_client("widgets",
---     {apiVersion = "example.com/v1", kind = "Widget"}, true)
---   client:corev1():widgets("demo"):get("w-1")
---
--- The resource clients made here are Lua tables whose verbs go through the group
--- client's `call` (the same requests and return values as luakube's); they have
--- get/list/create/update/patch/delete (+ status/update_status/patch_status and
--- delete_collection as asked) and the extras given. For streams, apply, watch and
--- iter on a CRD use `client:api("group/version")` instead.
local core = require "kube.core"
local objects = require "kube.api.objects"

local utils = {}

local function body_of(obj, concat, what)
  if type(obj) == "string" then
    obj = core.yaml_decode(obj)
  end
  if type(obj) ~= "table" then
    error(what .. ": obj must be a table or a YAML string, got " .. type(obj), 3)
  end
  local copy = setmetatable({}, getmetatable(obj))
  for k, v in pairs(obj) do copy[k] = v end
  for k, v in pairs(concat) do copy[k] = v end
  return copy
end

local function meta(obj) return type(obj.metadata) == "table" and obj.metadata or {} end

--- `Client.new = utils.generate_base("example.com/v1")`: `Client:new(client)`
--- makes a group client of that version whose methods are `Client`'s.
function utils.generate_base(version)
  return function(cls, api_client)
    assert(api_client, "API abstraction must be created from a client")
    local group
    if version == "v1" then
      group = api_client:corev1()
    else
      group = api_client:api(version)
    end
    cls.__index = cls
    return setmetatable({
      client_ = api_client,
      api_ = version,
      call = function(_, ...) return group:call(...) end,
      raw_call = function(_, ...) return group:raw_call(...) end,
    }, cls)
  end
end

--- `utils.generate_object_client(name, {apiVersion = …, kind = …}, namespaced,
--- with_status?, with_collection?, extras?)`: a function `(group, ns?)` that makes
--- the resource client, to be stored in a group module's `Client` table.
function utils.generate_object_client(name, concat, namespaced, with_status, with_collection, extras)
  if with_status == nil then with_status = true end
  if with_collection == nil then with_collection = true end
  local what = name
  return function(parent, ns)
    if ns == false then ns = nil end
    if ns ~= nil then
      assert(namespaced, "cannot provide namespace on non-namespaced object type")
      ns = tostring(ns)
    end
    local class = namespaced and objects.NamespacedAPIObject or objects.APIObject
    local rc = { client_ = parent.client_, api_ = name, namespaced_ = ns ~= nil }
    rc.path_ = ns and ("/namespaces/" .. ns .. "/" .. name) or ("/" .. name)

    local function need_ns(verb)
      assert(not namespaced or rc.namespaced_, what .. ":" .. verb .. ": make the client with a namespace")
    end
    local function wrap(cls, obj, info, code)
      if type(obj) == "table" then setmetatable(obj, cls) end
      return obj, info, code
    end
    -- A write through a client without a namespace goes to the object's own.
    local function write_base(obj)
      if namespaced and not rc.namespaced_ then
        local ns_of = meta(obj).namespace
        assert(ns_of, what .. ": give the client a namespace or set obj.metadata.namespace")
        return "/namespaces/" .. ns_of .. "/" .. name
      end
      return rc.path_
    end

    function rc.call(self, method, path, body, query, style)
      return parent:call(method, self.path_ .. (path or ""), body, query, style)
    end
    function rc.raw_call(self, method, path, body, query, style)
      return parent:raw_call(method, self.path_ .. (path or ""), body, query, style)
    end
    function rc.get(self, obj_name, query)
      if type(obj_name) ~= "string" then
        query = query or obj_name
        if type(query) ~= "table" then query = nil end
        local list, info, code = self:call("GET", "", nil, query)
        local items = {}
        if type(list) == "table" and type(list.items) == "table" then
          for i, item in ipairs(list.items) do items[i] = setmetatable(item, class) end
        end
        return items, info, code
      end
      need_ns("get")
      return wrap(class, self:call("GET", "/" .. obj_name, nil, query))
    end
    function rc.list(self, query)
      local list, info, code = self:call("GET", "", nil, query)
      if type(list) == "table" and type(list.items) == "table" then
        for _, item in ipairs(list.items) do setmetatable(item, class) end
      end
      return list, info, code
    end
    function rc.create(self, obj, query)
      obj = body_of(obj, concat, what .. ":create")
      return wrap(class, parent:call("POST", write_base(obj), obj, query))
    end
    function rc.update(self, obj, query)
      obj = body_of(obj, concat, what .. ":update")
      return wrap(class, parent:call("PUT", write_base(obj) .. "/" .. tostring(meta(obj).name), obj, query))
    end
    function rc.patch(self, obj_name, patch, query, style)
      need_ns("patch")
      return wrap(class, self:call("PATCH", "/" .. tostring(obj_name), patch, query, style))
    end
    function rc.delete(self, obj_name, query)
      need_ns("delete")
      return wrap(objects.Response, self:call("DELETE", "/" .. tostring(obj_name), nil, query))
    end
    if with_status then
      function rc.status(self, obj_name)
        need_ns("status")
        local obj, info, code = self:call("GET", "/" .. tostring(obj_name) .. "/status")
        return type(obj) == "table" and obj.status or obj, info, code
      end
      function rc.update_status(self, obj, query)
        obj = body_of(obj, concat, what .. ":update_status")
        return wrap(class, parent:call("PUT", write_base(obj) .. "/" .. tostring(meta(obj).name) .. "/status", obj, query))
      end
      function rc.patch_status(self, obj_name, patch, query, style)
        need_ns("patch_status")
        return wrap(class, self:call("PATCH", "/" .. tostring(obj_name) .. "/status", patch, query, style))
      end
    end
    if with_collection then
      function rc.delete_collection(self, body, query)
        need_ns("delete_collection")
        return wrap(objects.Response, self:call("DELETE", "", body, query))
      end
    end
    for fname, f in pairs(extras or {}) do rc[fname] = f end
    return rc
  end
end

return utils
