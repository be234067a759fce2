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

-- Getters read `metadata` when there is one (a body without it, e.g. a failed
-- call's non-Status answer, gives nil / {} instead of raising as luakube did).
local function meta(o) return rawget(o, "metadata") or {} end
local function meta_for_write(o)
  if rawget(o, "metadata") == nil then o.metadata = {} end
  return o.metadata
end

function objects.APIObject:name() return meta(self).name end
function objects.APIObject:labels() return meta(self).labels or {} end
function objects.APIObject:set_labels(labels) meta_for_write(self).labels = labels end
function objects.APIObject:annotations() return meta(self).annotations or {} end
function objects.APIObject:set_annotations(a) meta_for_write(self).annotations = a end
function objects.APIObject:uid() return meta(self).uid end
function objects.APIObject:creation_timestamp() return meta(self).creationTimestamp end

---@class NamespacedAPIObject: APIObject
objects.NamespacedAPIObject = class(objects.APIObject)

function objects.NamespacedAPIObject:namespace() return meta(self).namespace end

--- A failed call's Status (`kind = "Status"`), as returned first by a failed call:
--- `local st, msg, code = pods:get("x")`. Fields as the server sent them: `reason`,
--- `code`, `message`, `details` (`name`, `kind`, `causes` …).
--- It has the object methods too (`st:name()` is nil, `st:labels()` is `{}`), as
--- luakube wrapped a failed call's body in the resource's class: scripts that log
--- `obj:name()` after a failed call keep working.
---@class Status: NamespacedAPIObject
objects.Status = class(objects.NamespacedAPIObject)

local function reason_is(reason, code)
  return function(self)
    return self.reason == reason or (self.reason == nil and self.code == code)
  end
end

--- 404: the object (or the collection's namespace) does not exist.
objects.Status.is_not_found = reason_is("NotFound", 404)
--- 409 Conflict: a stale resourceVersion, or a server-side apply field conflict.
objects.Status.is_conflict = reason_is("Conflict", 409)
--- 409 AlreadyExists: create of a name that is taken.
objects.Status.is_already_exists = reason_is("AlreadyExists", 409)
--- 403: the user may not do this.
objects.Status.is_forbidden = reason_is("Forbidden", 403)
--- 401: no valid credentials.
objects.Status.is_unauthorized = reason_is("Unauthorized", 401)
--- 422: the object failed validation (`details.causes` says where).
objects.Status.is_invalid = reason_is("Invalid", 422)
--- 410: a resourceVersion or continue token too old (reason Expired or Gone).
function objects.Status:is_gone()
  return self.reason == "Expired" or self.reason == "Gone" or self.code == 410
end

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
