/**
 * Typedef chains, unions, enums with aliases, containers that must be
 * hashable, immutable structs, and constants of every shape.
 */

namespace py tricky.shapes

include "base/common.thrift"

typedef i64 Id
typedef Id UserId
typedef UserId AccountId
typedef list<AccountId> Accounts
typedef common.When Then

enum Color {
  RED = 1,
  GREEN = 2,
  /** Lower case on purpose. */
  blue = 3,
}

enum Signed {
  MINUS = -1,
  ZERO = 0,
  ALSO_ZERO = 0,
}

/** A point; hashable, so it can be a key. */
struct Point {
  1: double x,
  2: double y,
} (python.immutable = "")

struct Tagged {
  1: string name = "untitled",
  2: Color color = Color.GREEN,
  3: i32 weight = 7,
  4: required AccountId owner,
  5: optional Accounts accounts = [1, 2, 3],
  6: Point origin = {"x": 1.5, "y": -2},
  7: binary blob = "bytes\n\"ÿ",
  8: uuid id = "00112233-4455-6677-8899-aabbccddeeff",
  9: Then when = 12,
}

/** A binary tree: recursion through optional fields. */
struct Tree {
  1: i32 value,
  2: optional Tree left,
  3: optional Tree right,
}

/** A JSON-like value: a recursive union. */
union Value {
  1: i64 int_value,
  2: double double_value,
  3: string string_value,
  4: list<Value> list_value,
  5: map<string, Value> map_value,
}

struct Index {
  1: map<Point, set<double>> by_point,
  2: set<list<i32>> paths,
  3: map<set<string>, list<map<i32, Color>>> nested,
  4: list<map<set<i32>, map<i32, set<list<map<Point, string>>>>>> deep,
  1000: optional bool sparse,
}

const i8 SMALL = -128
const i64 BIG = 9223372036854775807
const double PI = 3.141592653589793
const double WHOLE = 3
const double TINY = 1e-300
const bool YES = true
const string QUOTED = "say \"hi\"\n\ttab \\ backslash"
const string SINGLE = 'it\'s'
const binary BYTES = "ÿbin\t"
const uuid NIL = "00000000-0000-0000-0000-000000000000"
const Color FAVOURITE = Color.blue
const AccountId ROOT = 1
const list<string> NAMES = ["a", "b"]
const set<Color> PRIMARY = [Color.RED, Color.GREEN]
const map<string, list<i32>> TABLE = {"one": [1], "two": [2, 2]}
const map<Point, string> LABELS = {{"x": 0, "y": 0}: "origin"}
const set<list<i32>> PATHS = [[1, 2], []]
const Tagged DEFAULT_TAG = {"name": "default", "owner": 1, "color": Color.RED}
const Value NESTED = {"list_value": [{"int_value": 1}, {"string_value": "two"}]}
const list<map<string, set<i32>>> LONG_CONSTANT = [{"first key that is long": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}, {"second": []}]

/** Fields without ids get negative ones: no thrift_spec, so every protocol reads them. */
struct Legacy {
  string name,
  2: i32 count,
}
