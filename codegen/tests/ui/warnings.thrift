// Accepted, with Apache's warnings.
namespace noexist x                         // M0902
namespace cpp.noexist y                     // M0902
struct A {
  string implicit                           // M0900
  0: i32 zero                               // M0901
}
union U { 1: required i32 a }               // M0903
service S {
  async void old(1: optional i32 x)         // M0905, M0904
}
