//! The engine's tests: key rules and states, crypto operations, envelope files and the Wycheproof
//! vectors, in one test binary.

mod audit;
mod compat;
mod concurrency;
mod database;
mod engine;
mod failed_saves;
mod files;
mod key_pairs;
mod product;
mod rotation_rules;
mod secrets;
mod tags;
mod users;
mod wycheproof;
