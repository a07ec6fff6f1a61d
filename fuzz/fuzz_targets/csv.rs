#![no_main]
// libFuzzer target `csv`: the same function as `freqprop-fuzz csv` (crates/fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = fuzz::csv(data);
});
