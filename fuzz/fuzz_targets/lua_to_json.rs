#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::lua_to_json(data));
