/** Definitions in another directory, with a dotted namespace. */
namespace py tricky.base.common

typedef i64 Timestamp
typedef Timestamp When

enum Level {
  LOW = 1,
  HIGH = 2,
}

exception CommonError {
  1: string message,
  2: Level level = Level.HIGH,
}

/** The base of services in other files. */
service Base {
  void ping(),
  When now(),
}
