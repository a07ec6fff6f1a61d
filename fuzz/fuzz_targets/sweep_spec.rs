#![no_main]
// libFuzzer target `sweep_spec`: the same function as `freqprop-fuzz sweep_spec` (crates/fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = fuzz::sweep_spec(data);
});
