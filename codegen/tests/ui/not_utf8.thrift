struct A {}
const string S = "café"
