//! The Rust generated for the back end's golden cases, compiled as a user's crate compiles it.
//! Clippy runs over this crate with `-D warnings`; `tests/` round-trips values through both
//! protocols and calls services over loopback.

/// Apache's `ThriftTest.thrift`.
pub mod thrift_test {
    include!(concat!(env!("OUT_DIR"), "/thrift_test/mosaic.rs"));
}

/// Mosaic's own tricky IDL: keywords, recursion, unions, ordered keys, includes, extends.
pub mod tricky {
    include!(concat!(env!("OUT_DIR"), "/tricky/mosaic.rs"));
}

/// The front end's file with every IDL construct (`codegen/tests/data/everything.thrift`).
pub mod everything {
    include!(concat!(env!("OUT_DIR"), "/everything/mosaic.rs"));
}
