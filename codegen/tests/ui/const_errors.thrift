enum Color { RED, GREEN }
struct P { 1: i32 x, 2: i32 y }
const i8 SMALL = 200                        // M0401
const i32 WORD = "word"                     // M0400
const bool FLAG = 2                         // M0401
const Color C1 = Color.BLUE                 // M0403
const Color C2 = 7                          // M0403
const P ORIGIN = {"x": 0, "z": 0}           // M0404
const uuid ID = "not-a-uuid"                // M0405
const list<map<string, i16>> NESTED = [{"a": 1}, {"b": 70000}]  // M0401
const i32 LOOP_A = LOOP_B                   // M0406
const i32 LOOP_B = LOOP_A
struct D { 1: double d = "x" }              // M0400: field defaults are checked too
