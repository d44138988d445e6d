/**
 * Types and errors shared by every Mosaic service.
 *
 * Every service extends `Health`, so any client (and the registry) can probe any server
 * the same way. Errors that mean the same thing in every service are declared here, so a
 * client handles "too large" or "overloaded" once, whichever service raised it.
 */

namespace rs mosaic.common
namespace py mosaic.common
namespace java dev.mosaic.common

/**
 * A request argument was out of range or inconsistent. `field` names it as a path into the
 * request, e.g. `ops[2].resize.width`, so the caller can point at what to fix.
 */
exception InvalidArgument {
  1: required string message
  2: optional string field
}

/**
 * The request asked for something this server does not support: a format it cannot
 * decode or encode, or an operation added to the contract after this server was built.
 */
exception Unsupported {
  1: required string message
  /** What was not supported, e.g. `format AVIF` or `op 17`. */
  2: optional string what
}

/**
 * The request needs more than the server's per-request budget (pixels, bytes, items).
 * `limit` is the budget and `requested` what the request needed, in the unit of `what`.
 */
exception TooLarge {
  1: required string message
  2: optional string what
  3: optional i64 limit
  4: optional i64 requested
}

/**
 * The server is at capacity and did not start the work; the call is safe to retry,
 * on this server after `retry_after_ms` or on another one at once.
 */
exception Overloaded {
  1: required string message
  2: optional i32 retry_after_ms
}

/** What a server says about itself. */
struct ServerStatus {
  /** The name of the service it serves, e.g. `image`. */
  1: required string name
  /** The Mosaic version of the server. */
  2: required string version
  3: required i64 uptime_ms
  /** Calls being processed right now. */
  4: required i32 in_flight
  /** Calls answered since start, errors included. */
  5: required i64 served
}

/** Liveness and status; every Mosaic service extends it. */
service Health {
  /** Answers at once; a client's cheapest round trip. */
  void ping()

  ServerStatus status()
}
