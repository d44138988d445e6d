/**
 * Included from another directory: types and a base service that `services.thrift` uses and
 * extends.
 */

typedef i64 Timestamp

enum Level {
  LOW = 1,
  HIGH = 2,
}

/** A struct used as a map key in another file. */
struct Stamp {
  1: Timestamp at,
  2: double weight,
}

exception CommonError {
  1: string message,
  2: Level level = Level.HIGH,
}

const i32 MAX_ITEMS = 100

/** The base service. */
service Base {
  /** Returns the time. */
  Timestamp now(),
  void fail(1: string why) throws (1: CommonError error),
}
