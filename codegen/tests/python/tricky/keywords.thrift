/**
 * Python keywords, builtins and names the generated code uses, as every kind of name.
 */

include "base/common.thrift"

enum from {
  None = 0,
  True = 1,
  False = 2,
  class = 3,
  str = 4,
}

struct class {
  1: i32 from,
  2: string type,
  3: list<i32> list,
  4: from def,
  5: string self,
  6: i32 read,
  7: i32 thrift_spec,
  8: double import,
  9: i32 result,
}

union str {
  1: class lambda,
  2: string is,
  3: binary bytes,
}

exception raise {
  1: string message,
  2: common.Level level,
}

/** Fields named like the types the class's own annotations use. */
struct Annotated {
  1: string str,
  2: bool bool,
  3: i32 object,
  4: i64 int,
  5: list<i32> tuple,
  6: i32 ClassVar,
  7: i32 TProtocolBase,
  8: i32 other,
}

/** The same in an immutable class, whose `__setattr__` and `__hash__` are annotated too. */
exception Shadowing {
  1: string str,
  2: i32 object,
  3: i64 int,
  4: bool bool,
}

struct TType { 1: i32 x }
struct sys { 1: i32 x }

/** A service named like a builtin, extending one from another directory. */
service print extends common.Base {
  class def(1: i32 return, 2: string args, 3: from result, 4: i32 iprot) throws (1: raise except),
  oneway void yield(1: i32 self),
  common.When later(1: common.Timestamp by) throws (1: common.CommonError oops),
}

/** Named like a module of the package: generated as `ttypes_.py`. */
service ttypes {
  void ping(),
}
