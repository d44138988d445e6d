/** Services that extend across includes, with throws and oneway. */

include "base/common.thrift"
include "shapes.thrift"

/**
 * Extends a service from another directory.
 *
 * Indented text in a comment is not a doctest:
 *
 *     let x = not rust;
 */
service Store extends common.Base {
  /** Stores a value and returns its id. */
  shapes.Id put(1: shapes.Value value, 2: optional string label) throws (1: shapes.Problem problem),
  shapes.Value get(1: shapes.Id id) throws (1: shapes.Problem problem, 2: common.CommonError common),
  oneway void forget(1: shapes.Id id),
  map<shapes.Point, set<double>> index(1: list<shapes.Point> points),
  void clear(),
  shapes.Shape shape(1: shapes.Shape shape),
  bool many(1: i8 a, 2: i16 b, 3: i32 c, 4: i64 d, 5: double e, 6: string f, 7: binary g, 8: uuid h),
}

/** Extends a service in the same file. */
service Cache extends Store {
  void evict(1: shapes.Id id) throws (1: shapes.Silent silent),
}
