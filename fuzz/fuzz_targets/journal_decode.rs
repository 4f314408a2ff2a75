//! `journal_decode`: see `granary_fuzz::journal_decode` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| granary_fuzz::check_journal_decode(data));
