#![no_main]
// libFuzzer target `rawfile`: the same function as `freqprop-fuzz rawfile` (crates/fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = fuzz::rawfile(data);
});
