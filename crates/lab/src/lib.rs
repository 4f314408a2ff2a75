//! Granary's lab: real market data for experiments and demos. Item 1 is the daily USD price
//! series shipped in `data/prices/` (see `data/prices/PROVENANCE.md`) and a strict, typed reader
//! for them. Item 2 is [`backtest`]: the `lp` strategy against HODL on those prices, run on the
//! engine's exact pool arithmetic; its trade sizes ([`arbitrage`]) also drive the demo world's
//! live market. Floats are fine here: this is analytics input, never engine state.

pub mod arbitrage;
pub mod backtest;
pub mod chart;
pub mod data;
pub mod date;
pub mod history;
pub mod montecarlo;
pub mod pool;
pub mod prices;
pub mod report;
pub mod run;
pub mod strategy;

pub use date::{Date, DateError, SECONDS_PER_DAY};
pub use prices::{
    DailySeries, DataError, Gap, GapPolicy, PriceTable, Problem, parse_series, parse_wide, read_series,
    read_series_with, read_wide, read_wide_with,
};
