exception Oops { 1: string message }
struct NotAnError {}
service S {
  oneway i32 count()                        // M0500
  oneway void fire() throws (1: Oops o)     // M0501
  void f() throws (1: NotAnError e)         // M0502
}
