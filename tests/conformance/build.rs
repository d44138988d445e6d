fn main() {
    // Mosaic's own generator, as a user's build.rs would call it.
    mosaic_codegen::Builder::new()
        // Apache's file declares namespaces for languages that do not exist, on purpose; the
        // front end's warnings about them are expected here.
        .cargo_warnings(false)
        .compile(&["idl/ThriftTest.thrift"])
        .unwrap_or_else(|e| panic!("generating code for ThriftTest.thrift failed:\n{e}"));
}
