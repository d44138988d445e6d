//! The benchmark harness for `bench.thrift`: the pieces that `loadgen`, the minimal server and
//! the smoke test share.
//!
//! - [`wire`]: framed strict-binary Thrift messages for the three methods, encoded and parsed by
//!   hand so the load generator measures the servers, not a client framework.
//! - [`load`]: the load driver: N connections, D calls in flight on each, a bounded time window,
//!   replies checked and matched by sequence id, latencies in an HDR histogram.
//! - [`procfs`]: server CPU time and peak memory from `/proc`.
//! - [`server`]: starts a server binary as a child process and learns its port.
//! - [`report`]: aggregates rounds and prints Markdown tables with ratios.

pub mod load;
pub mod procfs;
pub mod report;
pub mod server;
pub mod wire;
