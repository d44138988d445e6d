/**
 * Every Rust keyword that Thrift allows as a name, as types, fields, arguments, methods and
 * enum values, and names that collide with prelude types or generated items.
 */

enum dyn {
  self = 1,
  Self = 2,
  super = 3,
  crate = 4,
  type = 5,
  name = 6,
  from_name = 7,
}

struct type {
  1: i32 abstract,
  2: i32 as,
  3: i32 async,
  4: i32 await,
  5: i32 become,
  6: i32 box,
  7: i32 break,
  8: i32 continue,
  9: i32 crate,
  10: i32 do,
  11: i32 dyn,
  12: i32 else,
  13: i32 extern,
  14: i32 final,
  15: i32 fn,
  16: i32 for,
  17: i32 gen,
  18: i32 if,
  19: i32 impl,
  20: i32 in,
  21: i32 let,
  22: i32 loop,
  23: i32 macro,
  24: i32 match,
  25: i32 mod,
  26: i32 move,
  27: i32 mut,
  28: i32 override,
  29: i32 priv,
  30: i32 pub,
  31: i32 ref,
  32: i32 return,
  33: i32 self,
  34: i32 Self,
  35: i32 static,
  36: i32 super,
  37: i32 trait,
  38: i32 try,
  39: i32 type,
  40: i32 typeof,
  41: i32 unsafe,
  42: i32 unsized,
  43: i32 use,
  44: i32 virtual,
  45: i32 where,
  46: i32 while,
  47: i32 yield,
  48: i32 self_,
  49: i32 r,
  50: i32 w,
  51: i32 field,
  52: i32 f_type,
}

/** Names of prelude types: generated code must not be confused by them. */
struct Result { 1: string Ok, 2: string Err }
struct Option { 1: Result Some, 2: i32 None }
struct String { 1: string value }
struct Vec { 1: list<String> items }
struct Box { 1: Vec boxed }
struct Default { 1: i32 x = 1 }
struct Send { 1: i32 x }
struct Sync { 1: i32 x }
struct Ok { 1: i32 x }
struct Some { 1: i32 x }
struct Error { 1: i32 x }
struct Struct { 1: i32 x }
struct TType { 1: i32 x }

union match {
  1: type loop,
  2: dyn while,
  3: Option Other,
  /** Every union has a variant `Unknown`, so this member becomes `Unknown_`. */
  4: i32 unknown,
}

exception crate {
  1: string message,
}

/** A service named like a keyword, with keyword methods and arguments. */
service impl {
  type fn(1: type self, 2: dyn super, 3: i32 r, 4: i32 args, 5: i32 result, 6: i32 handler),
  void new(),
  void multiplexed(),
  Result loop(1: Option where) throws (1: crate self, 2: crate other),
  oneway void yield(1: i32 call),
}

service Default_Service {
  void dyn()
}

/** Names of prelude traits and derive macros. */
struct Ord { 1: double x }
struct Clone { 1: i32 x }
struct Hash { 1: i32 x }
struct Debug { 1: i32 x }
struct PartialEq { 1: i32 x }
struct Sized { 1: i32 x }
struct Into { 1: i32 x }

/** Keys whose type names shadow prelude traits. */
struct Shadowed {
  1: set<Ord> ords,
  2: map<Clone, Hash> clones,
  3: set<match> matches,
}

/** A service with no functions, and one that only inherits. */
service Nothing {}
service AlsoNothing extends Nothing {}
