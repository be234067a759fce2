//! Every raw Lua C-API call of the crate, behind safe functions.
//!
//! mlua's typed API costs a registry reference per value it hands out; the
//! hot paths (the JSON/YAML decoder and encoder in `convert.rs`, the
//! identity reads of `pager.rs`) and two metatable edits of `lua_fn.rs` work
//! on the Lua stack directly instead. They do so only through this module.
//!
//! # The stack contract
//!
//! A [`Stack`] exists only inside [`run`], which runs a closure through
//! mlua's `exec_raw`: the state is the calling thread's, mlua holds its lock,
//! the closure's arguments are at 1..n, whatever the closure leaves is the
//! result, and mlua restores the stack after. The closure runs in protected
//! mode: a Lua error raised by the API (only an allocation failure here)
//! unwinds to `run` as an `Err`, leaking what the closure owned (never
//! dropping it twice). Within the closure, callers keep three rules, which
//! the functions below rely on:
//!
//! 1. **Room**: `run` leaves `LUA_MINSTACK` (20) free slots; a caller that
//!    pushes more first asks [`Stack::check`] and stops when it says no.
//! 2. **Indices** name live slots (absolute, or negative from the top), and
//!    the table functions get a table there. Debug builds assert both.
//! 3. **Borrowed bytes** ([`Stack::bytes`], [`Stack::string`]) are used
//!    only while their slot stays on the stack (Lua does not move strings).
//!
//! Nothing here calls a metamethod: every get and set is raw, so no Lua code
//! runs, nothing yields and no error other than memory can be raised.

use mlua::ffi;
use mlua::{FromLuaMulti, IntoLuaMulti, Lua};
use std::ffi::c_void;
use std::os::raw::c_int;

/// Lua's type tags, as [`Stack::kind`] returns them.
pub(crate) use ffi::{
    LUA_TBOOLEAN, LUA_TLIGHTUSERDATA, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE,
};

/// The stack of the state a [`run`] closure works on.
#[derive(Clone, Copy)]
pub(crate) struct Stack(*mut ffi::lua_State);

/// Runs `f` on the raw stack with `args` pushed at 1..n; the values `f`
/// leaves on the stack are converted to `R`.
#[inline]
pub(crate) fn run<R: FromLuaMulti>(
    lua: &Lua,
    args: impl IntoLuaMulti,
    f: impl FnOnce(Stack),
) -> mlua::Result<R> {
    // SAFETY: the raw state is only reachable through the `Stack` handed to
    // `f`, whose functions keep the contract at the top of this module; mlua
    // restores the stack and turns a Lua error into an `Err`.
    unsafe { lua.exec_raw(args, |state| f(Stack(state))) }
}

impl Stack {
    #[inline]
    fn valid(self, idx: c_int) -> bool {
        // SAFETY: lua_gettop only reads the stack size.
        let top = unsafe { ffi::lua_gettop(self.0) };
        (idx > 0 && idx <= top) || (idx < 0 && -idx <= top)
    }

    #[inline]
    fn table_at(self, idx: c_int) -> bool {
        // SAFETY: lua_type accepts any valid index (checked first).
        self.valid(idx) && unsafe { ffi::lua_type(self.0, idx) } == LUA_TTABLE
    }

    /// Index of the top slot (the number of slots in use).
    #[inline]
    pub(crate) fn top(self) -> c_int {
        // SAFETY: lua_gettop only reads the stack size.
        unsafe { ffi::lua_gettop(self.0) }
    }

    /// Pops or pads with nils to `idx` (negative: relative to the top).
    #[inline]
    pub(crate) fn set_top(self, idx: c_int) {
        debug_assert!(idx >= 0 || -idx <= self.top() + 1);
        // SAFETY: contract rule 2 (and rule 1 when it grows the stack).
        unsafe { ffi::lua_settop(self.0, idx) }
    }

    /// Makes room for `n` more slots; false when the stack cannot grow.
    #[inline]
    pub(crate) fn check(self, n: c_int) -> bool {
        // SAFETY: lua_checkstack grows the stack or answers 0; it never raises.
        unsafe { ffi::lua_checkstack(self.0, n) != 0 }
    }

    #[inline]
    pub(crate) fn push_nil(self) {
        // SAFETY: contract rule 1 (room for one slot).
        unsafe { ffi::lua_pushnil(self.0) }
    }

    #[inline]
    pub(crate) fn push_bool(self, v: bool) {
        // SAFETY: contract rule 1.
        unsafe { ffi::lua_pushboolean(self.0, v as c_int) }
    }

    /// An integer: a Lua integer where the version has them, else a number.
    #[inline]
    pub(crate) fn push_integer(self, v: i64) {
        // SAFETY: contract rule 1.
        #[cfg(any(feature = "lua54", feature = "lua53"))]
        unsafe {
            ffi::lua_pushinteger(self.0, v)
        }
        // SAFETY: contract rule 1.
        #[cfg(not(any(feature = "lua54", feature = "lua53")))]
        unsafe {
            ffi::lua_pushnumber(self.0, v as f64)
        }
    }

    #[inline]
    pub(crate) fn push_number(self, v: f64) {
        // SAFETY: contract rule 1.
        unsafe { ffi::lua_pushnumber(self.0, v) }
    }

    /// A Lua string of these bytes (copied by Lua).
    #[inline]
    pub(crate) fn push_bytes(self, s: &[u8]) {
        // SAFETY: contract rule 1; Lua copies `len` bytes from a live slice.
        unsafe { ffi::lua_pushlstring(self.0, s.as_ptr().cast(), s.len()) };
    }

    #[inline]
    pub(crate) fn push_str(self, s: &str) {
        self.push_bytes(s.as_bytes())
    }

    /// JSON null: the NULL light userdata (`kube.null`, equal to `cjson.null`).
    #[inline]
    pub(crate) fn push_null(self) {
        // SAFETY: contract rule 1; a light userdata is only a pointer value.
        unsafe { ffi::lua_pushlightuserdata(self.0, std::ptr::null_mut()) }
    }

    /// Pushes a copy of the value at `idx`.
    #[inline]
    pub(crate) fn push_copy(self, idx: c_int) {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rules 1 and 2.
        unsafe { ffi::lua_pushvalue(self.0, idx) }
    }

    /// Pops the top value into slot `idx`.
    #[inline]
    pub(crate) fn replace(self, idx: c_int) {
        debug_assert!(self.valid(idx) && self.top() >= 1);
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_replace(self.0, idx) }
    }

    /// Pushes a new table sized for `array` and `record` entries.
    #[inline]
    pub(crate) fn new_table(self, array: c_int, record: c_int) {
        // SAFETY: contract rule 1; may raise a memory error (see the contract).
        unsafe { ffi::lua_createtable(self.0, array, record) }
    }

    /// `t[k] = v` without metamethods: `t` at `idx`, `k` and `v` on top (popped).
    #[inline]
    pub(crate) fn raw_set(self, idx: c_int) {
        debug_assert!(self.table_at(idx) && self.top() >= 2);
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_rawset(self.0, idx) }
    }

    /// `t[n] = v` without metamethods: `t` at `idx`, `v` on top (popped).
    #[inline]
    pub(crate) fn raw_set_index(self, idx: c_int, n: i64) {
        debug_assert!(self.table_at(idx) && self.top() >= 1);
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_rawseti(self.0, idx, n as _) }
    }

    /// Replaces the key on top by `t[key]` without metamethods (`t` at `idx`).
    #[inline]
    pub(crate) fn raw_get(self, idx: c_int) {
        debug_assert!(self.table_at(idx) && self.top() >= 1);
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_rawget(self.0, idx) };
    }

    /// Pushes `t[key]` without metamethods (`t` at `idx`).
    #[inline]
    pub(crate) fn raw_get_field(self, idx: c_int, key: &str) {
        let idx = if idx < 0 { idx - 1 } else { idx };
        self.push_str(key);
        self.raw_get(idx)
    }

    /// Pushes `t[n]` without metamethods (`t` at `idx`).
    #[inline]
    pub(crate) fn raw_get_index(self, idx: c_int, n: i64) {
        debug_assert!(self.table_at(idx));
        // SAFETY: contract rules 1 and 2.
        unsafe { ffi::lua_rawgeti(self.0, idx, n as ffi::lua_Integer) };
    }

    /// The raw length (`#` without `__len`) of the table at `idx`.
    #[inline]
    pub(crate) fn raw_len(self, idx: c_int) -> usize {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_rawlen(self.0, idx) }
    }

    /// Pops a key and pushes the next key and value of the table at `idx`;
    /// false (nothing pushed) at the end. The key must be left unchanged.
    #[inline]
    pub(crate) fn next(self, idx: c_int) -> bool {
        debug_assert!(self.table_at(idx) && self.top() >= 1);
        // SAFETY: contract rules 1 and 2; keys come from the previous `next`.
        unsafe { ffi::lua_next(self.0, idx) != 0 }
    }

    /// Pops the table on top and sets it as the metatable of the value at `idx`.
    #[inline]
    pub(crate) fn set_metatable(self, idx: c_int) {
        debug_assert!(self.valid(idx) && self.table_at(-1));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_setmetatable(self.0, idx) };
    }

    /// Pushes the metatable of the value at `idx`; false (nothing pushed) if none.
    #[inline]
    pub(crate) fn get_metatable(self, idx: c_int) -> bool {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rules 1 and 2.
        unsafe { ffi::lua_getmetatable(self.0, idx) != 0 }
    }

    /// The type tag (`LUA_T*`) of the value at `idx`.
    #[inline]
    pub(crate) fn kind(self, idx: c_int) -> c_int {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_type(self.0, idx) }
    }

    /// The name of a type tag, as Lua prints it.
    pub(crate) fn kind_name(self, tag: c_int) -> String {
        // SAFETY: lua_typename returns a static C string for every tag.
        let name = unsafe { std::ffi::CStr::from_ptr(ffi::lua_typename(self.0, tag)) };
        name.to_string_lossy().into_owned()
    }

    /// Lua's truth of the value at `idx`.
    #[inline]
    pub(crate) fn to_bool(self, idx: c_int) -> bool {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_toboolean(self.0, idx) != 0 }
    }

    /// The value at `idx` is a number with an integer representation.
    #[inline]
    pub(crate) fn is_integer(self, idx: c_int) -> bool {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_isinteger(self.0, idx) != 0 }
    }

    #[inline]
    pub(crate) fn to_integer(self, idx: c_int) -> i64 {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_tointeger(self.0, idx) as i64 }
    }

    #[inline]
    pub(crate) fn to_number(self, idx: c_int) -> f64 {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_tonumber(self.0, idx) as f64 }
    }

    /// The light userdata at `idx` is NULL (JSON null).
    #[inline]
    pub(crate) fn is_null(self, idx: c_int) -> bool {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_touserdata(self.0, idx).is_null() }
    }

    /// Identity of the table at `idx` (for cycle checks; never dereferenced).
    #[inline]
    pub(crate) fn pointer(self, idx: c_int) -> *const c_void {
        debug_assert!(self.valid(idx));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_topointer(self.0, idx) }
    }

    /// The values at `a` and `b` are the same without metamethods.
    #[inline]
    pub(crate) fn raw_equal(self, a: c_int, b: c_int) -> bool {
        debug_assert!(self.valid(a) && self.valid(b));
        // SAFETY: contract rule 2.
        unsafe { ffi::lua_rawequal(self.0, a, b) != 0 }
    }

    /// The bytes of the string at `idx`, which must be a string (a number
    /// would be converted in place). Valid while the slot is (rule 3).
    #[inline]
    pub(crate) fn bytes(&self, idx: c_int) -> &[u8] {
        debug_assert!(self.valid(idx) && self.kind(idx) == LUA_TSTRING);
        // SAFETY: contract rules 2 and 3: a Lua string is immutable and lives
        // while its slot holds it; lua_tolstring gives its pointer and length.
        unsafe {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(self.0, idx, &mut len);
            std::slice::from_raw_parts(p.cast::<u8>(), len)
        }
    }

    /// The string at `idx` if it is one (numbers are not converted).
    #[inline]
    pub(crate) fn string(&self, idx: c_int) -> Option<&[u8]> {
        (self.kind(idx) == LUA_TSTRING).then(|| self.bytes(idx))
    }
}
