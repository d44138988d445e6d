/**
 * Every IDL construct Mosaic's front end supports, written for Mosaic's tests.
 *
 * Accepted with warnings for the implicit field ids below.
 */
include "common/shared.thrift"
cpp_include "<vector>"
namespace java org.mosaic.everything
namespace xsd everything (uri = 'http://example.org/everything')

# A shell-style comment.
// A line comment.
/* A block comment. */

typedef shared.Timestamp When
typedef When Deadline (unit = "ms")
typedef list<map<string, set<i64>>> Nested
typedef binary Blob
typedef byte Small

const double RATIO = 2.5
const double BIG = 1e10
const double HALF = .5
const double TINY = -1.5e-3
const double WHOLE = 2
const i64 HEX = 0xFF
const i64 NEG_HEX = -0x10
const i16 MINUS = -32768
const string QUOTES = 'single "double" inside'
const string ESCAPES = "tab\tnewline\nquote\" backslash\\"
const bool YES = true
const bool NO = 0
const list<i32> PRIMES = [2, 3, 5, 7]
const set<string> TAGS = ["a", "b"];
const map<string, list<i32>> TABLE = {"one": [1], "two": [2, 2]},
const map<shared.Priority, string> NAMES = {shared.Priority.LOW: "low", shared.Priority.HIGH: "high"}
const shared.Priority DEFAULT_PRIORITY = shared.Priority.HIGH
const i32 LIMIT = shared.MAX_ITEMS
const uuid ROOT_ID = "00112233-4455-6677-8899-aabbccddeeff"
const shared.Header EMPTY_HEADER = {"trace_id": "none", "priority": shared.Priority.LOW}

/** The kinds of shape. */
enum Shape {
  CIRCLE = 1
  SQUARE
  TRIANGLE = 10;
} (cpp.enum_type = "uint8_t")

/**
 * A point in the plane.
 *   Indented doc lines keep their extra indentation.
 */
struct Point {
  /** Across. */
  1: double x
  2: double y = 0
}

struct Everything {
  1: required i32 id
  2: optional string name = "unnamed"
  3: list<Point> points = [{"x": 1, "y": 2}, {"x": 3}]
  4: map<string, list<map<i32, set<i64>>>> deep
  5: binary data
  6: uuid key
  7: i8 tiny = -128
  8: Small small
  9: Deadline deadline = 1000
  10: shared.Header header (annotated = "yes")
  11: i32 (js.type = "number") typed_annotation
  12: Shape shape = Shape.SQUARE
  13: Everything & self_ref
  14: optional Everything next
  string no_id
  i32 no_id_either,
  15: bool flag = true;
  16: Nested nested
  17: string namespace
}

union Choice {
  1: i32 number
  2: string text = "default"
}

exception Failure {
  1: string message
  2: i32 code = 500
} (retryable = "false")

/** The main service. */
service Everywhere extends shared.Base {
  /** Adds two numbers. */
  i32 add(1: i32 a, 2: i32 b = 2) throws (1: Failure failure, 2: shared.NotFound missing),
  oneway void fire(1: string event);
  Everything get(1: i32 id) (http.method = "GET")
  list<Point> points()
  void nothing()
} (service.version = "1")
