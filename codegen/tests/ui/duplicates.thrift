struct A { 1: i32 x }
struct A { 1: i32 y }               // M0303
struct B {
  1: i32 x
  2: i32 x                          // M0304
  2: i32 z                          // M0305
}
enum E { ONE, TWO, ONE }            // M0306
service S { void f(), void f() }    // M0307
service T extends S { void f() }    // M0307: inherited
