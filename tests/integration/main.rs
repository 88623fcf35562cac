//! The integration test suite: the real `agent-vault` binary on real git repositories in
//! hermetic temp environments (see `common`). Run with `cargo test --test integration`.

mod common;

mod agent_keys;
mod broker_cli;
mod check;
mod commands;
mod completions;
mod gitops;
mod hook;
mod hostile;
mod integrity;
mod json;
mod keys;
mod lifecycle;
mod mcp;
mod migrate;
mod names;
mod newcomer;
mod readme;
mod remote;
mod safety;
mod seed;
// Secrets into processes and CI, and the everyday owner verbs.
mod export_formats;
mod owner_verbs;
mod run_export;
