/** Definitions another file includes, in a package of their own. */
namespace java org.mosaic.tricky.base

/** Levels; a newer peer may send a value this enum does not name. */
enum Level {
  LOW = 1,
  /** The middle. */
  MEDIUM = 5,
  HIGH,
}

typedef i64 Millis

struct Stamp {
  1: required Millis at,
  2: optional string zone = "UTC",
}

exception NotFound {
  1: string message,
  2: i32 code = 404,
}

service Base {
  /** Liveness. */
  void ping(),
  Stamp now(1: string zone),
}
