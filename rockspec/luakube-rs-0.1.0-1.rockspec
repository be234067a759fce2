rockspec_format = "3.0"
package = "luakube-rs"
version = "0.1.0-1"
source = {
   url = "git+https://github.com/luakube-rs/luakube-rs.git",
   tag = "v0.1.0",
}
description = {
   summary = "Kubernetes client for Lua with a Rust core, drop-in compatible with luakube",
   detailed = [[
      luakube's API (kube.config, kube.api, resource clients) over a Rust core:
      kubeconfig and credentials, verified HTTPS with connection reuse, fast
      JSON <-> Lua conversion (also as kube.json, lua-cjson's surface).
      Building from this rockspec needs cargo (Rust) and the Lua headers; the
      binary rock luakube-rs-0.1.0-1.linux-x86_64.rock needs neither.
   ]],
   homepage = "https://github.com/luakube-rs/luakube-rs",
   license = "MIT",
   labels = { "kubernetes", "k8s", "rust", "openresty", "neovim" },
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
