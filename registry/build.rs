//! Generates the Rust code for `idl/registry.thrift` (and common.thrift) into `OUT_DIR`.
fn main() {
    mosaic_codegen::compile(&["../idl/registry.thrift"]).unwrap();
}
