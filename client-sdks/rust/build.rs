//! Generates the Rust code for Mosaic's contracts (`idl/`) into `OUT_DIR`.
fn main() {
    mosaic_codegen::compile(&["../../idl/image.thrift", "../../idl/registry.thrift"]).unwrap();
}
