-- kube.json: the codec with lua-cjson's surface (lua/kube/json.lua), on every Lua.
local json = require "kube.json"

-- Objects are compared decoded: key order in encoded text depends on the table.
local function same_json(a, b)
  assert.are.same(json.decode(a), json.decode(b))
end

describe("kube.json", function()
  it("round-trips a Kubernetes object unchanged", function()
    local text = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"},'
      .. '"annotations":{},"finalizers":[],"ownerReferences":[{"uid":"u1","controller":true}]},'
      .. '"spec":{"containers":[{"name":"c","image":"nginx:1.27","args":["-g","daemon off;"],'
      .. '"resources":{"limits":{"cpu":"500m"}},"ports":[{"containerPort":8080}]}],'
      .. '"terminationGracePeriodSeconds":30,"priority":-5,"overhead":null},'
      .. '"status":{"phase":"Running","ratio":0.25,"conditions":[]}}'
    local v = json.decode(text)
    assert.are.equal("p", v.metadata.name)
    assert.are.equal(8080, v.spec.containers[1].ports[1].containerPort)
    assert.are.equal(json.null, v.spec.overhead)
    same_json(text, json.encode(v))
    same_json(json.encode(v), json.encode(json.decode(json.encode(v))))
  end)

  it("keeps strings byte for byte: escapes, control characters, non-ASCII", function()
    local s = 'quote " backslash \\ slash / tab \t nl \n nul \0 bell \7 é ✓ 😀'
    local text = json.encode({ s = s })
    assert.are.equal(s, json.decode(text).s)
    assert.is_nil(text:find("\0", 1, true))
    assert.are.equal("\195\169", json.decode('"\\u00e9"'))
    assert.are.equal("😀", json.decode('"\\ud83d\\ude00"'))
  end)

  it("null: decodes to json.null, which is cjson.null and kube.null, and encodes back", function()
    local v = json.decode('{"a":null,"b":[null,1]}')
    assert.are.equal(json.null, v.a)
    assert.are.equal(json.null, v.b[1])
    assert.are.equal(require("kube").null, json.null)
    local has_cjson, cjson = pcall(require, "cjson")
    if has_cjson then assert.are.equal(cjson.null, json.null) end
    assert.are.equal("null", json.encode(json.null))
    assert.are.equal("null", json.encode(nil))
    assert.are.equal(json.null, json.decode("null"))
    same_json('{"a":null,"b":[null,1]}', json.encode(v))
  end)

  it("empty arrays and objects stay apart: decoded, marked, and plain tables", function()
    local v = json.decode('{"a":[],"o":{}}')
    assert.are.equal("[]", json.encode(v.a))
    assert.are.equal("{}", json.encode(v.o))
    assert.are.equal(json.array_mt, getmetatable(v.a))
    assert.are.equal("[]", json.encode(json.array()))
    assert.are.equal("[]", json.encode(setmetatable({}, json.empty_array_mt)))
    assert.are.equal("{}", json.encode({}))
    assert.are.equal('{"items":[]}', json.encode({ items = json.array() }))
    local t = json.array({ 1, 2 })
    assert.are.equal("[1,2]", json.encode(t))
  end)

  it("numbers: integers exact, floats exact, integral floats as integers", function()
    local v = json.decode('[0,-7,9007199254740993,0.1,1e300,-2.5e-8,1.0]')
    assert.are.equal(0.1, v[4])
    assert.are.equal(1e300, v[5])
    assert.are.equal(-2.5e-8, v[6])
    if math.type then
      assert.are.equal(9007199254740993, v[3])
      assert.are.equal("integer", math.type(v[2]))
    end
    assert.are.equal("[0,-7,1.5,3]", json.encode({ 0, -7, 1.5, 3.0 }))
    for _, x in ipairs({ 0.1, 1 / 3, 1e-300, 123456.789 }) do
      assert.are.equal(x, json.decode(json.encode(x)))
    end
  end)

  it("tables that are not sequences encode as objects with string keys", function()
    same_json('{"1":"a","3":"c"}', json.encode({ [1] = "a", [3] = "c" }))
    same_json('{"1":"a","x":1}', json.encode({ "a", x = 1 }))
  end)

  it("decode errors: invalid JSON, trailing text, deep nesting, not a string", function()
    local function fails(text, pattern)
      local ok, err = pcall(json.decode, text)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(pattern), tostring(err))
      assert.is_truthy(tostring(err):find("kube.json.decode: ", 1, true), tostring(err))
    end
    fails("{bad", "line 1 column 2")
    fails("[1,2] x", "trailing characters")
    fails("", "EOF")
    fails('{"a":', "EOF")
    fails('"\255"', "")
    fails(string.rep("[", 1001) .. string.rep("]", 1001), "nests deeper than 1000 levels")
    fails({}, "expected a JSON string, got a table")
    fails(nil, "expected a JSON string, got a nil")
    -- the error points at the caller's line
    local ok, err = pcall(function() local v = json.decode("{"); return v end)
    assert.is_false(ok)
    assert.is_truthy(err:find("json_spec.lua:%d+: kube.json.decode"), err)
  end)

  it("encode errors name what and where: functions, userdata, NaN, inf, bad UTF-8, cycles", function()
    local function fails(value, pattern)
      local ok, err = pcall(json.encode, value)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(pattern, 1, true), tostring(err))
    end
    fails({ f = print }, "kube.json.encode: value.f: cannot encode a function as JSON")
    fails({ a = { 1, 2, { x = 1 / 0 } } }, "value.a[3].x: cannot encode inf")
    fails({ n = 0 / 0 }, "value.n: cannot encode")
    fails({ s = "\255" }, "value.s: string is not valid UTF-8")
    fails(coroutine.create(function() end), "cannot encode a thread")
    fails(io.stdout, "cannot encode a userdata")
    local cyc = {}
    cyc.self = cyc
    fails(cyc, "value.self: table contains a reference to itself")
    local deep = {}
    local cur = deep
    for _ = 1, 1100 do cur.x = {}; cur = cur.x end
    fails(deep, "nested deeper than 1000 levels")
  end)

  it("agrees with lua-cjson on what it decodes", function()
    local has_cjson, cjson = pcall(require, "cjson")
    if not has_cjson then return pending("lua-cjson is not installed") end
    local text = '{"a":[1,2,{"b":"c"}],"d":true,"e":false,"f":"\\u00e9","g":-1.25}'
    assert.are.same(cjson.decode(text), (function()
      local v = json.decode(text)
      setmetatable(v.a, nil) -- cjson's arrays carry no marker
      return v
    end)())
    same_json(cjson.encode(cjson.decode(text)), json.encode(json.decode(text)))
  end)
end)
