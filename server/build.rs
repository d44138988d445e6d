//! Generates the Rust code for Mosaic's service contracts (`idl/`) into `OUT_DIR`.
fn main() {
    // Includes are resolved relative to each file, so common.thrift comes along.
    mosaic_codegen::compile(&["../idl/image.thrift"]).unwrap();
}
