rockspec_format = "3.0"
package = "luakube-rs"
version = "scm-1"
source = {
   url = "git+file:///dev/null",
}
description = {
   summary = "Kubernetes client for Lua with a Rust core, drop-in compatible with luakube",
   detailed = [[
      luakube's API (kube.config, kube.api, resource clients) over a Rust core:
      kubeconfig and credentials, verified HTTPS with connection reuse, fast
      JSON <-> Lua conversion. Build from a checkout with `luarocks make`.
   ]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.1, < 5.5",
}
build = {
   type = "make",
   build_variables = {
      LUA = "$(LUA)",
      CFLAGS = "$(CFLAGS)",
   },
   install_variables = {
      LUA = "$(LUA)",
      INST_LIBDIR = "$(LIBDIR)",
      INST_LUADIR = "$(LUADIR)",
      INST_BINDIR = "$(BINDIR)",
   },
}
