#![no_main]
// libFuzzer target `netlist`: the same function as `freqprop-fuzz netlist` (crates/fuzz).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = fuzz::netlist(data);
});
