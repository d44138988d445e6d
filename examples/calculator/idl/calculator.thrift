/** A calculator: the smallest useful Mosaic service. */
service Calculator {
    /** Adds two numbers. */
    i64 add(1: i64 a, 2: i64 b),
}
