/**
 * Types whose Rust shape takes thought: typedef chains, recursion, unions, doubles and structs
 * as set elements and map keys, defaults and constants of every kind.
 */

include "base/common.thrift"

typedef i64 Id
typedef Id UserId
typedef UserId AccountId
typedef double Price
typedef list<double> Prices
typedef set<Price> PriceSet
typedef common.Timestamp When

enum Color {
  RED = 1,
  GREEN = 2,
  blue = 3,
}

enum Signed {
  MINUS = -1,
  ZERO = 0,
  ALSO_ZERO = 0,
}

struct Point {
  1: double x,
  2: double y,
}

/** Ordered by derive: no doubles. */
struct Tagged {
  1: string name,
  2: Color color = Color.GREEN,
  3: i32 weight = 7,
}

/** A binary tree: recursion through optional fields. */
struct Tree {
  1: i32 value,
  2: optional Tree left,
  3: optional Tree right,
}

/** Mutual recursion through default-requiredness fields and a list. */
struct Ping {
  1: Pong pong,
  2: list<Ping> pings,
}

struct Pong {
  1: optional Ping ping,
  2: string label,
}

/** A JSON-like value: a recursive union with a double inside. */
union Value {
  1: i64 int_value,
  2: double double_value,
  3: string string_value,
  4: list<Value> list_value,
  5: map<string, Value> map_value,
  6: Value boxed,
}

struct Circle {
  1: Point center,
  2: double radius,
}

union Shape {
  1: Point point,
  2: Circle circle,
}

union Single {
  1: string only,
}

union Nothing {
}

struct Empty {
}

/** Doubles, structs and unions where Rust needs `Ord`. */
struct Keys {
  1: set<double> doubles,
  2: map<double, string> by_double,
  3: map<Point, string> by_point,
  4: set<Tagged> tagged,
  5: set<list<double>> double_lists,
  6: map<Price, Price> prices,
  7: set<Prices> price_lists,
  8: set<Value> values,
  9: map<Color, set<Shape>> shapes,
  10: set<binary> blobs,
  11: set<uuid> ids,
  12: PriceSet price_set,
  13: map<common.Stamp, When> stamps,
  14: set<Single> singles,
  15: set<Tree> trees,
  16: set<Empty> empties,
}

struct Defaults {
  1: i32 answer = 42,
  2: string greeting = "hello",
  3: list<i32> primes = [2, 3, 5],
  4: map<string, Color> colors = {"red": Color.RED},
  5: optional double ratio = 0.5,
  6: required bool flag = true,
  7: Point origin = {"x": 1.5, "y": -2.0},
  8: Value value = {"int_value": 3},
  9: binary blob = "bytes",
  10: uuid id = "00112233-4455-6677-8899-aabbccddeeff",
  12: i32 zero = 0,
  13: Shape shape,
  14: optional Shape maybe_shape,
  15: bool off = false,
  16: double pi = 3.14159,
  17: set<Price> price_set = [1.5],
}

struct Requireds {
  1: required string name,
  2: required Tree tree,
  3: optional i32 maybe,
  4: required Value value,
  5: required Color color,
}

/** Fields with ids Thrift assigns (negative) and out of order. */
struct Implicit {
  string first,
  string second,
  10: i32 tenth,
  5: i32 fifth,
}

/** Implicit ids are negative (-1, -2), and so are their match patterns. */
union ImplicitChoice {
  string first,
  i32 second,
  7: i32 seventh,
}

exception Problem {
  1: string message,
  2: i32 code,
}

exception Silent {
  1: i32 code,
}

exception OptionalMessage {
  1: optional string message,
}

const i8 SMALL = -128
const i16 MEDIUM = 32767
const i32 INT_MIN = -2147483648
const i64 LONG_MIN = -9223372036854775808
const double PI_ISH = 3.14159
const double NEG = -0.5
const double BIG = 1e100
const string ESCAPED = "quote\" backslash\\ tab\t newline\n"
const binary BLOB = "raw bytes"
const uuid ROOT = "00112233-4455-6677-8899-aabbccddeeff"
const Color FAVOURITE = Color.blue
const list<Point> POINTS = [{"x": 1.0, "y": 2.0}]
const set<double> DOUBLE_SET = [1.5, 2.5]
const map<Price, list<Price>> PRICE_TABLE = {1.0: [2.0]}
const Value NESTED_VALUE = {"list_value": [{"int_value": 1}, {"string_value": "two"}]}
const Tree LEAF = {"value": 1, "left": {"value": 2}}
const Defaults EMPTY_DEFAULTS = {}
const AccountId ACCOUNT = 5
const Prices SOME_PRICES = [1.0, 2.0]
const map<string, map<string, list<i32>>> NESTED_MAP = {"a": {"b": [1, 2]}}
const i32 LIMIT = common.MAX_ITEMS
const common.Level LEVEL = common.Level.LOW
const list<string> EMPTY_LIST = []
const When EPOCH = 0
