fn main() {
    mosaic_codegen::compile(&["idl/calculator.thrift"]).unwrap();
}
