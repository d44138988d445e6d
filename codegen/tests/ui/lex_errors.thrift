// Lexical errors are reported one by one, and parsing goes on.
const string A = "unterminated  // M0011
const string B = "bad \q escape"  // M0012
const i64 C = 99999999999999999999  // M0014
const i32 D = 1 @ // M0010
