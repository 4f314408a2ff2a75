//! `scenario_parse`: see `granary_fuzz::scenario_parse` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| granary_fuzz::check_scenario_parse(data));
