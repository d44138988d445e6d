struct service {}           // M0101: keyword as a name
struct a.b {}               // M0102: dotted name
senum Old { "a" }           // M0104: removed
cpp_namespace foo           // M0104: removed header form
