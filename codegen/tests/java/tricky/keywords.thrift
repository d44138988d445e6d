/**
 * Java reserved words and restricted identifiers as type, field, argument, method and enum
 * value names; names that clash with generated members and java.lang types.
 */
namespace java org.mosaic.tricky

enum class {
  public = 1,
  static = 2,
  int = 3,
  new = 4,
  value = 5,
  name = 6,
  var = 7,
}

struct interface {
  1: i32 abstract,
  2: i32 assert,
  3: i32 boolean,
  4: i32 break,
  5: i32 byte,
  6: i32 case,
  7: i32 catch,
  8: i32 char,
  9: i32 class,
  10: i32 continue,
  11: i32 default,
  12: i32 do,
  13: i32 double,
  14: i32 else,
  15: i32 enum,
  16: i32 extends,
  17: i32 final,
  18: i32 finally,
  19: i32 float,
  20: i32 for,
  21: i32 goto,
  22: i32 if,
  23: i32 implements,
  24: i32 import,
  25: i32 instanceof,
  26: i32 int,
  27: i32 long,
  28: i32 native,
  29: i32 new,
  30: i32 package,
  31: i32 private,
  32: i32 protected,
  33: i32 public,
  34: i32 return,
  35: i32 short,
  36: i32 static,
  37: i32 strictfp,
  38: i32 super,
  39: i32 switch,
  40: i32 synchronized,
  41: i32 this,
  42: i32 throw,
  43: i32 transient,
  44: i32 try,
  45: i32 volatile,
  46: i32 while,
  47: i32 var,
  48: i32 yield,
  49: i32 record,
  50: i32 permits,
  51: i32 sealed,
  52: string Class,
  53: bool value,
  54: i32 other,
  55: i32 that,
  56: i32 hash,
  57: i32 iprot,
  58: i32 oprot,
  59: string java,
  60: string org,
}

/** A struct called String: generated code spells java.lang.String in full. */
struct String {
  1: string String,
  2: Object Object,
}

struct Object {
  1: i32 hashCode,
  2: string toString,
}

/** A user type whose name a generated nested class also has. */
struct Builder {
  1: i32 Builder,
}

exception Thrown {
  1: string message,
  2: i32 cause,
  3: i32 stackTrace,
}

service synchronized {
  class default(1: interface this, 2: Builder new, 3: i32 iprot, 4: i32 oprot) throws (1: Thrown catch),
  void invoke(1: i32 method),
  void close(),
  i32 inFlight(),
  string toString(),
  i32 hashCode(1: i32 wait),
  string packages(1: string java, 2: list<string> org),
  oneway void goto(1: class switch),
}

/** Services named like classes generated inside them: their classes take a trailing `_`. */
service Client {
  void ping(),
}
service AsyncIface {}
service lookup_args {
  i32 lookup(1: i32 key),
}
/** Extends a renamed service, so the reference must use the class's name. */
service Derived extends Client {
  void more(),
}

/** A value named like its enum: the constant takes a trailing `_`. */
enum Shade {
  Dark = 1,
  Shade = 2,
}
const Shade DEFAULT_SHADE = Shade.Shade
struct Painted {
  1: Shade shade = Shade.Shade,
}
