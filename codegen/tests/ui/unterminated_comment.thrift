struct A {}
/* never closed  // M0013
struct B {}
