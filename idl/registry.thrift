/**
 * The registry: where the servers of each Mosaic service are.
 *
 * A server registers itself with a lease and keeps the lease alive with heartbeats; when the
 * heartbeats stop for longer than the lease's TTL, the instance disappears from lookups and
 * every watcher of its service wakes. Clients look a service up once, then long-poll `watch`
 * with the version they hold, and balance calls across the instances on their own side.
 *
 * Versions are opaque and per service: a client only ever compares them for equality. A
 * registry that restarts (or a client that moves to another registry process) answers with a
 * different version, so a watcher holding an old one is answered at once.
 */

include "common.thrift"

namespace rs mosaic.registry
namespace py mosaic.registry
namespace java dev.mosaic.registry

/** What a server tells the registry about itself. */
struct Registration {
  /** The service it serves, e.g. `image`: 1 to 128 characters of `[A-Za-z0-9._-]`. */
  1: required string service_name
  /** The host clients connect to: an IP address or a name they can resolve. */
  2: required string host
  3: required i32 port
  /**
   * The instance's relative share of calls (1 to 10000). 0 keeps it listed but sends it
   * no new calls, e.g. while it drains before shutting down. Default 100.
   */
  4: optional i32 weight = 100
  /** Where it runs (a rack, an availability zone); clients may prefer their own. */
  5: optional string zone
  /**
   * Free-form labels, e.g. `version` = `1.4.2` or `models` = `resnet50,clip`. At most 64
   * entries, keys up to 128 and values up to 4096 bytes.
   */
  6: optional map<string, string> tags
  /**
   * How long the lease lives without a heartbeat, in milliseconds. The registry clamps it
   * to its own range (1 s to 5 min) and answers with the TTL it granted. Default 10 s.
   * A registry holds a bounded number of instances; past it, registering is `TooLarge`.
   */
  7: optional i32 ttl_ms
}

/** A registration's lease: it lives while heartbeats come at least every `ttl_ms`. */
struct Lease {
  /** Names the registration in `heartbeat` and `deregister`; also the instance's id. */
  1: required i64 id
  /** The TTL granted; heartbeat well within it (a third of it is a good period). */
  2: required i32 ttl_ms
}

/** One live instance of a service, as clients see it. */
struct Instance {
  /** The id of its lease: unique among the registry's instances while the lease lives. */
  1: required i64 id
  2: required string host
  3: required i32 port
  4: required i32 weight
  5: optional string zone
  6: required map<string, string> tags
  /** When it registered, in milliseconds since the Unix epoch. */
  7: required i64 registered_at_ms
}

/** A service's live instances at one version. */
struct Instances {
  1: required string service_name
  /** Changes whenever an instance comes, goes or re-registers; compare for equality only. */
  2: required i64 version
  /** In a stable order (by id), so two equal sets compare equal. */
  3: required list<Instance> instances
}

/**
 * The lease is not known (any more): it expired because heartbeats stopped for longer than
 * its TTL, or it was deregistered. The server should register again.
 */
exception LeaseExpired {
  1: required string message
  2: optional i64 lease
}

/**
 * The registry cannot reach the store behind it (etcd); nothing was changed. Another
 * registry process sharing the store may still answer; otherwise try again later.
 */
exception StoreUnavailable {
  1: required string message
}

service Registry extends common.Health {
  /**
   * Lists an instance until its lease expires or it is deregistered. (Named so because
   * `register` is reserved in languages Apache's generator targets.)
   */
  Lease register_instance(1: Registration registration)
    throws (1: common.InvalidArgument invalid_argument, 2: StoreUnavailable unavailable,
            3: common.TooLarge too_large)

  /** Keeps the lease alive for another TTL. */
  Lease heartbeat(1: i64 lease)
    throws (1: LeaseExpired expired, 2: StoreUnavailable unavailable)

  /** Removes the instance at once and wakes its watchers. An unknown lease is not an error. */
  void deregister_instance(1: i64 lease)
    throws (1: StoreUnavailable unavailable)

  /** The service's live instances now; an unknown service has none. */
  Instances lookup(1: string service_name)
    throws (1: common.InvalidArgument invalid_argument, 2: StoreUnavailable unavailable)

  /**
   * A long poll: answers as soon as the service's version differs from `known_version`
   * (at once if it already does), or with the unchanged set after `timeout_ms` (at most
   * 300000). Call again with the version received.
   */
  Instances watch(1: string service_name, 2: i64 known_version, 3: i32 timeout_ms)
    throws (1: common.InvalidArgument invalid_argument, 2: StoreUnavailable unavailable)

  /** Every service with at least one live instance, by name. */
  list<Instances> services()
    throws (1: StoreUnavailable unavailable)
}
