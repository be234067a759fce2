# Built by `luarocks make rockspec/luakube-rs-scm-1.rockspec`, which passes LUA
# and the install directories. luarocks 3.8 has no LUA_VERSION, so the mlua
# feature comes from the interpreter itself: LuaJIT and Lua 5.1 share the 5.1 ABI.
LUA ?= lua
CARGO ?= cargo
INST_LIBDIR ?= $(CURDIR)/build/lib
INST_LUADIR ?= $(CURDIR)/build/lua
INST_BINDIR ?= $(CURDIR)/build/bin
LUA_FEATURE := $(shell $(LUA) -e 'if jit then print("lua51") else print((_VERSION:gsub("Lua ", "lua"):gsub("%.", ""))) end')
OUT := build/$(LUA_FEATURE)

.PHONY: all install clean

all: $(OUT)/core.so

$(OUT)/core.so: FORCE
	@test -n "$(LUA_FEATURE)" || { echo "cannot run $(LUA) to find the Lua version"; exit 1; }
	$(CARGO) build --release --features $(LUA_FEATURE),module
	mkdir -p $(OUT)
	cp target/release/libkube_core.so $(OUT)/core.so

install: $(OUT)/core.so
	mkdir -p $(INST_LIBDIR)/kube $(INST_LUADIR)/kube/api
	cp $(OUT)/core.so $(INST_LIBDIR)/kube/core.so
	cp lua/kube.lua $(INST_LUADIR)/kube.lua
	cp lua/kube/*.lua $(INST_LUADIR)/kube/
	cp lua/kube/api/*.lua $(INST_LUADIR)/kube/api/

clean:
	rm -rf build

FORCE:
