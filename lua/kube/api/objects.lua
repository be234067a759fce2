--- Classes of returned objects: plain tables with these methods in their metatable.
local objects = {}

local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, parent) end
  function c:new(o)
    return setmetatable(o or {}, self)
  end
  return c
end

---@class Response
objects.Response = class()

--- True for a failed call's Status object.
function objects.Response:is_failure()
  return self.kind == "Status" and self.status == "Failure"
end

---@class APIObject: Response
objects.APIObject = class(objects.Response)

function objects.APIObject:name() return self.metadata.name end
function objects.APIObject:labels() return self.metadata.labels or {} end
function objects.APIObject:set_labels(labels) self.metadata.labels = labels end
function objects.APIObject:annotations() return self.metadata.annotations or {} end
function objects.APIObject:set_annotations(a) self.metadata.annotations = a end
function objects.APIObject:uid() return self.metadata.uid end
function objects.APIObject:creation_timestamp() return self.metadata.creationTimestamp end

---@class NamespacedAPIObject: APIObject
objects.NamespacedAPIObject = class(objects.APIObject)

function objects.NamespacedAPIObject:namespace() return self.metadata.namespace end

local function wrap_items(list, cls)
  local out = {}
  for i, item in ipairs(list.items or {}) do
    out[i] = cls:new(item)
  end
  return out
end

--- The items of a decoded list, each an APIObject.
function objects.list_to_api_object(list) return wrap_items(list, objects.APIObject) end

--- The items of a decoded list, each a NamespacedAPIObject.
function objects.list_to_ns_api_object(list) return wrap_items(list, objects.NamespacedAPIObject) end

return objects
