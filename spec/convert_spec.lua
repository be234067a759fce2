-- JSON <-> Lua conversion in the Rust core.
local core = require "kube.core"
local kube = require "kube"

describe("JSON conversion", function()
  it("keeps [] and {} apart through a round trip", function()
    local v = core.json_decode('{"a":[],"b":{},"c":[1,"x",true]}')
    assert.are.equal('[]', core.json_encode(v.a))
    assert.are.equal('{}', core.json_encode(v.b))
    assert.are.equal('[1,"x",true]', core.json_encode(v.c))
  end)

  it("decodes null as kube.null", function()
    local v = core.json_decode('{"a":null,"b":[null]}')
    assert.are.equal(kube.null, v.a)
    assert.are.equal(kube.null, v.b[1])
    assert.are.equal('{"a":null}', core.json_encode({ a = kube.null }))
  end)

  it("keeps integers exact", function()
    local v = core.json_decode('{"n":9007199254740993,"f":1.5,"i":42}')
    assert.are.equal(42, v.i)
    assert.are.equal(1.5, v.f)
    if math.type then
      assert.are.equal("integer", math.type(v.i))
      assert.are.equal(9007199254740993, v.n)
    end
    assert.are.equal('{"i":42}', core.json_encode({ i = 42.0 }))
  end)

  it("kube.array marks empty arrays", function()
    assert.are.equal('[]', core.json_encode(kube.array()))
    assert.are.equal('{}', core.json_encode({}))
  end)

  it("reports bad input with a clear error", function()
    assert.has_error(function() core.json_decode('{"a":') end)
    local ok, err = pcall(core.json_encode, { spec = { f = function() end } })
    assert.is_false(ok)
    assert.truthy(err:find("value.spec.f", 1, true))
    local t = {}
    t.self = t
    ok, err = pcall(core.json_encode, t)
    assert.truthy(err:find("cycle"))
    ok, err = pcall(core.json_encode, { x = 0 / 0 })
    assert.is_false(ok)
  end)

  it("decodes arrays and objects larger than a C function's stack (8,000 slots on 5.1)", function()
    local n, items, members = 50000, {}, {}
    for i = 1, n do
      items[i] = tostring(i)
      members[i] = ('"k%d":{"v":[%d]}'):format(i, i)
    end
    local array = core.json_decode("[" .. table.concat(items, ",") .. "]")
    assert.are.equal(n, #array)
    assert.are.equal(1, array[1])
    assert.are.equal(n, array[n])
    local object = core.json_decode("{" .. table.concat(members, ",") .. "}")
    local count = 0
    for _ in pairs(object) do count = count + 1 end
    assert.are.equal(n, count)
    assert.are.equal(1, object.k1.v[1])
    assert.are.equal(n, object["k" .. n].v[1])
    assert.are.equal(core.json_encode(array), "[" .. table.concat(items, ",") .. "]")
  end)

  it("decodes YAML documents", function()
    local v = core.yaml_decode("kind: Pod\nmetadata:\n  name: web\n  labels:\n    app: x\nspec:\n  containers: []\n")
    assert.are.equal("web", v.metadata.name)
    assert.are.equal('[]', core.json_encode(v.spec.containers))
  end)
end)
