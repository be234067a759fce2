-- Custom resources against their CRD's schema, from Lua through the module
-- over HTTPS to kube-testserver: defaults filled in, unknown fields pruned, and
-- the 422 Invalid Status a real kube-apiserver gives for a value the schema
-- refuses.
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"

describe("a CRD's schema", function()
  local srv, client, widgets

  setup(function()
    srv = testing.start { args = { "--controllers", "none" } }
    client = api.Client:new(config.from_kube_config(srv.kubeconfig))
    local _, msg, code = client:apiextensionsv1():customresourcedefinitions():create {
      metadata = { name = "widgets.example.com" },
      spec = {
        group = "example.com",
        scope = "Namespaced",
        names = { plural = "widgets", singular = "widget", kind = "Widget" },
        versions = { { name = "v1", served = true, storage = true,
          schema = { openAPIV3Schema = { type = "object", properties = {
            spec = { type = "object", required = { "color" }, properties = {
              size = { type = "integer", minimum = 0, maximum = 10, default = 1 },
              color = { type = "string", enum = { "red", "blue" } },
            } },
          } } } } },
      },
    }
    assert(code == 201, msg)
    widgets = assert(client:api("example.com/v1")):widgets("default")
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  it("fills in defaults and drops fields the schema does not specify", function()
    local w, msg, code = widgets:create { metadata = { name = "w1" }, spec = { color = "red", bogus = true } }
    assert.are.equal(201, code, msg)
    assert.are.equal(1, w.spec.size)
    assert.is_nil(w.spec.bogus)
    assert.are.equal(1, widgets:get("w1").spec.size)
  end)

  it("answers 422 Invalid with the real server's causes", function()
    local st, msg, code = widgets:create { metadata = { name = "bad" }, spec = { color = "green", size = 11 } }
    assert.are.equal(422, code)
    assert.is_true(st:is_invalid())
    assert.truthy(msg:find('spec.color: Unsupported value: "green": supported values: "red", "blue"', 1, true), msg)
    local by_field = {}
    for _, c in ipairs(st.details.causes) do by_field[c.field] = c end
    assert.are.equal("FieldValueInvalid", by_field["spec.size"].reason)
    assert.are.equal("Invalid value: 11: spec.size in body should be less than or equal to 10",
      by_field["spec.size"].message)
    local _, _, gone = widgets:get("bad")
    assert.are.equal(404, gone)
  end)
end)
