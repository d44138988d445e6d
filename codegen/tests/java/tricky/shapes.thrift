/** Unions, unknown enum values, includes, extends, defaults and constants of every shape. */
namespace java org.mosaic.tricky

include "base/common.thrift"

/** One of several shapes. */
union Shape {
  /** A circle's radius. */
  1: double circle,
  2: list<double> polygon,
  3: common.Stamp stamped,
  4: binary raw,
  5: map<string, list<i32>> grid,
  6: common.Level level,
  7: bool flag,
}

struct Defaults {
  1: bool b = true,
  2: i8 tiny = -128,
  3: i16 small = 32767,
  4: i32 medium = -2147483648,
  5: i64 large = 9223372036854775807,
  6: double ratio = 0.5,
  7: string text = "tab\tquote\"backslash\\ unicode é 🦀 */",
  8: binary bytes = "raw",
  9: list<i32> ints = [1, 2, 3],
  10: set<string> names = ["a", "b"],
  11: map<string, common.Level> levels = {"low": common.Level.LOW},
  12: common.Stamp stamp = {"at": 5, "zone": "CET"},
  13: optional common.Level level = common.Level.HIGH,
  14: required uuid id,
  15: list<map<i32, set<common.Stamp>>> deep,
  16: optional Shape shape,
  17: double whole = 3,
}

struct Tree {
  1: string label,
  2: list<Tree> children,
  3: optional Tree parent,
}

const bool YES = true
const i8 TINY = 7
const i16 SMALL = -300
const i32 MEDIUM = 70000
const i64 LARGE = -9223372036854775808
const double PI = 3.141592653589793
const double BIG = 1e307
const double TINY_DOUBLE = 1e-292
const string GREETING = "héllo\n"
const binary MAGIC = "abc"
const uuid ID = "00112233-4455-6677-8899-aabbccddeeff"
const common.Level DEFAULT_LEVEL = common.Level.MEDIUM
const list<string> WORDS = ["a", "b"]
const set<i64> PRIMES = [2, 3, 5]
const map<i32, string> NUMBERS = {1: "one", 2: "two"}
const map<string, list<common.Stamp>> STAMPS = {"x": [{"at": 1}, {"at": 2, "zone": "PST"}]}
const common.Stamp EPOCH = {"at": 0}
const Shape UNIT = {"circle": 1.0}
const list<map<string, set<i32>>> NESTED = [{"a": [1]}, {}]
const common.Millis TIMEOUT = 30000

/** A service that extends one in another package. */
service Shapes extends common.Base {
  /** Areas; throws when the shape is not known. */
  double area(1: Shape shape) throws (1: common.NotFound missing),
  map<common.Level, list<Shape>> group(1: list<Shape> shapes, 2: common.Level min),
  oneway void forget(1: Tree tree),
  common.Millis uptime(),
}
