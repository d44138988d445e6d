struct A {
  1: Missing m              // M0300
  2: other.Thing t          // M0300: no file `other` is included
  3: S s                    // M0302: a service is not a type
}
service S extends Nowhere {} // M0301
const i32 K = UNKNOWN       // M0402
