// Recursion through optional fields and containers is fine; through required fields it is not.
struct Ok { 1: optional Ok next, 2: list<Ok> children }
struct Node { 1: required Link link }       // M0311
struct Link { 1: required Node node }
typedef Alias2 Alias1                       // M0310
typedef Alias1 Alias2
service Up extends Down {}                  // M0312
service Down extends Up {}
