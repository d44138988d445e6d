// One error per bad item; the parser recovers at separators, braces and line breaks.
struct A {
  1: i32           // M0100: missing field name
  2: string ok
  3 i32 c          // M0100: missing `:`
}
struct B { 1: list<i32 x }  // M0100: missing `>`
enum E { X = Y }            // M0100: enum values are integers
struct C {};                // M0100: no `;` after a struct
service S {
  void f(1: i32 a            // M0100: unclosed `(`
}
