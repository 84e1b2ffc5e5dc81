//! In-flight work: programs report work in progress and its end, and after a crash, a reboot
//! or a restart they are handed what was interrupted.
//!
//! A program under tend calls `tend inflight begin ID [--label TEXT]` when it starts a unit of
//! work (a chat turn, a job, a request that must not be lost) and `tend inflight done ID` when
//! it is finished; a Rust program can use [`tend_api::inflight::Inflight`] instead (the items,
//! their bounds and the recovery document are [`tend_api::inflight`]'s too), and anything else
//! the control API (`POST /v1/inflight`, `DELETE /v1/inflight/{id}`, see
//! `docs/control-api.md`). The running tend keeps the open items in
//! `$TEND_HOME/apps/<app>/inflight.json`.
//!
//! At the next start of the app, the items that were still open and are younger than
//! `[inflight] max_age` (default 1 hour) are the *interrupted* ones. After a crash, a reboot
//! or a restart, or whenever something was interrupted (except at a first start), tend writes
//! `recovery.json` and gives every program its path as `TEND_RECOVERY`:
//!
//! ```json
//! {
//!   "startup_kind": "crash_recovery",
//!   "interrupted": [
//!     {"id": "job-17", "label": "resize photo 17", "program": "worker",
//!      "started_at": "2026-11-22T04:21:04Z"}
//!   ],
//!   "written_at": "2026-11-22T04:25:10Z"
//! }
//! ```
//!
//! Then `inflight.json` starts empty: a program that resumes an interrupted item reports it
//! again with `begin`. `tend status` lists the open and the interrupted items.
//!
//! # Theory of operation
//!
//! Only the running tend writes `inflight.json`: it holds the app's single-instance lock, and
//! every `begin` and `done` reaches it through the control API, where one mutex serialises the
//! read-modify-write and each write is atomic ([`tend_fs::write_json`]). The file is read with
//! typed serde structs and checked ([`Journal::check`]); a damaged or wrong-shaped file is
//! moved aside (`inflight.json.corrupt-<millis>`), never fatal. At start, `recovery.json` is
//! written before `inflight.json` is cleared, so a crash in between hands the same items over
//! again rather than losing them. IDs (at most [`tend_api::inflight::MAX_ID_BYTES`]), labels
//! (at most [`tend_api::inflight::MAX_LABEL_BYTES`]) and the number of open items (at most
//! [`tend_api::inflight::MAX_OPEN_ITEMS`]) are bounded.

mod journal;
mod store;

pub use journal::{DEFAULT_MAX_AGE, Journal, RecoveryPlan, plan};
pub use store::{InflightState, Recovered, recover};
