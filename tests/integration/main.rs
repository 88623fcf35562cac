//! The integration test suite: the real `agent-vault` binary on real git repositories in
//! hermetic temp environments (see `common`). Run with `cargo test --test integration`.

mod common;

mod commands;
mod completions;
mod seed;
mod gitops;
mod names;
mod lifecycle;
mod remote;
mod keys;
mod safety;
mod check;
mod hook;
