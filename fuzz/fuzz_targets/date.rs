#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| karabakh_reactions::fuzzing::date(data));
