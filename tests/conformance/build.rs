fn main() {
    // Mosaic's own generator, as a user's build.rs would call it.
    mosaic_codegen::Builder::new()
        .compile(&["idl/ThriftTest.thrift"])
        .unwrap_or_else(|e| panic!("generating code for ThriftTest.thrift failed:\n{e}"));
}
