//! Test aids a real API server does not have, switched under `/testserver/`:
//! injected faults (`faults`), synthetic watch floods (`firehose`) and
//! container log lines (`logs`).

pub(crate) mod faults;
pub(crate) mod firehose;
pub(crate) mod logs;
