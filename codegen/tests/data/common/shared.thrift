/**
 * Types shared by every Mosaic test service.
 */
namespace * mosaic.shared
namespace rs mosaic_shared
namespace py mosaic.shared (package_prefix = "mosaic.")

/** How urgent a request is. */
enum Priority {
  LOW,
  NORMAL = 5,
  HIGH,
  /** Below everything. */
  NEGATIVE = -1,
  MASK = 0x7F (deprecated = "use bits"),
}

typedef i64 Timestamp

struct Header {
  1: required string trace_id
  2: optional Timestamp sent_at
  3: Priority priority = Priority.NORMAL
}

exception NotFound {
  1: string what
}

const i32 MAX_ITEMS = 1000

service Base {
  /** Liveness check. */
  void ping()
  string version()
}
