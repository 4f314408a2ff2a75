//! `price_read`: see `granary_fuzz::price_read` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| granary_fuzz::check_price_read(data));
