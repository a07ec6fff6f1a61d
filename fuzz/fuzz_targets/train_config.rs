#![no_main]
// libFuzzer target `train_config`: the same function as `freqprop-fuzz train_config` (crates/fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = fuzz::train_config(data);
});
