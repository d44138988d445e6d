//! Java types for IDL types, and the statements that read, write and copy values of them.
//!
//! | IDL | Java | boxed (in containers) |
//! | --- | --- | --- |
//! | `bool`, `i8`, `i16`, `i32`, `i64`, `double` | `boolean`, `byte`, `short`, `int`, `long`, `double` | `java.lang.Boolean`, ... |
//! | `string` | `java.lang.String` | |
//! | `binary` | `java.nio.ByteBuffer` | |
//! | `uuid` | `java.util.UUID` | |
//! | `list`, `set`, `map` | `java.util.List`, `Set`, `Map` (`ArrayList`, `LinkedHashSet`, `LinkedHashMap`) | |
//!
//! Generated statements use locals named `_x<depth>` (`_h1`, `_e2`), which IDL names
//! cannot clash with because the statements introduce them in their own blocks.
//!
//! Decoders check types as Mosaic's Rust decoders do: a field whose wire type is not the
//! IDL's is skipped, and so is a non-empty container whose element types are not the IDL's
//! (the field stays unset; a nested container is left out of its parent), so that a peer with
//! a changed schema never gets its bytes misread.

use super::out::Out;
use super::Cx;
use crate::ir::Type;

impl Cx<'_> {
    /// The Java type for `ty` as used in package `from`; `boxed` for type arguments.
    pub(crate) fn jtype(&self, ty: &Type, from: Option<&str>, boxed: bool) -> String {
        match self.program.true_type(ty) {
            Type::Bool => if boxed {
                "java.lang.Boolean"
            } else {
                "boolean"
            }
            .to_string(),
            Type::I8 => if boxed { "java.lang.Byte" } else { "byte" }.to_string(),
            Type::I16 => if boxed { "java.lang.Short" } else { "short" }.to_string(),
            Type::I32 => if boxed { "java.lang.Integer" } else { "int" }.to_string(),
            Type::I64 => if boxed { "java.lang.Long" } else { "long" }.to_string(),
            Type::Double => if boxed { "java.lang.Double" } else { "double" }.to_string(),
            Type::String => "java.lang.String".to_string(),
            Type::Binary => "java.nio.ByteBuffer".to_string(),
            Type::Uuid => "java.util.UUID".to_string(),
            Type::List(e) => format!("java.util.List<{}>", self.jtype(e, from, true)),
            Type::Set(e) => format!("java.util.Set<{}>", self.jtype(e, from, true)),
            Type::Map(k, v) => format!(
                "java.util.Map<{}, {}>",
                self.jtype(k, from, true),
                self.jtype(v, from, true)
            ),
            Type::Enum(id) => {
                let e = self.program.enum_(*id);
                self.class_ref(e.file, &e.name, from)
            }
            Type::Struct(id) => self.struct_ref(*id, from),
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        }
    }

    /// Whether `ty` is a Java primitive (and so needs a presence flag).
    pub(crate) fn is_primitive(&self, ty: &Type) -> bool {
        matches!(
            self.program.true_type(ty),
            Type::Bool | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Double
        )
    }

    /// The `TType` constant of `ty` on the wire.
    pub(crate) fn ttype(&self, ty: &Type) -> &'static str {
        let name = match self.program.true_type(ty) {
            Type::Bool => "BOOL",
            Type::I8 => "BYTE",
            Type::I16 => "I16",
            Type::I32 | Type::Enum(_) => "I32",
            Type::I64 => "I64",
            Type::Double => "DOUBLE",
            Type::String | Type::Binary => "STRING",
            Type::Uuid => "UUID",
            Type::List(_) => "LIST",
            Type::Set(_) => "SET",
            Type::Map(..) => "MAP",
            Type::Struct(_) => "STRUCT",
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        };
        match name {
            "BOOL" => "org.apache.thrift.protocol.TType.BOOL",
            "BYTE" => "org.apache.thrift.protocol.TType.BYTE",
            "I16" => "org.apache.thrift.protocol.TType.I16",
            "I32" => "org.apache.thrift.protocol.TType.I32",
            "I64" => "org.apache.thrift.protocol.TType.I64",
            "DOUBLE" => "org.apache.thrift.protocol.TType.DOUBLE",
            "STRING" => "org.apache.thrift.protocol.TType.STRING",
            "UUID" => "org.apache.thrift.protocol.TType.UUID",
            "LIST" => "org.apache.thrift.protocol.TType.LIST",
            "SET" => "org.apache.thrift.protocol.TType.SET",
            "MAP" => "org.apache.thrift.protocol.TType.MAP",
            _ => "org.apache.thrift.protocol.TType.STRUCT",
        }
    }

    /// Statements that read a value of `ty` from `iprot` and assign it to `target`.
    pub(crate) fn read_value(
        &self,
        o: &mut Out,
        ty: &Type,
        target: &str,
        from: Option<&str>,
        depth: usize,
    ) {
        let simple = |call: &str| format!("{target} = iprot.{call}();");
        match self.program.true_type(ty) {
            Type::Bool => o.line(&simple("readBool")),
            Type::I8 => o.line(&simple("readByte")),
            Type::I16 => o.line(&simple("readI16")),
            Type::I32 => o.line(&simple("readI32")),
            Type::I64 => o.line(&simple("readI64")),
            Type::Double => o.line(&simple("readDouble")),
            Type::String => o.line(&simple("readString")),
            Type::Binary => o.line(&simple("readBinary")),
            Type::Uuid => o.line(&simple("readUuid")),
            Type::Enum(_) => {
                let class = self.jtype(ty, from, false);
                o.line(&format!("{target} = {class}.findByValue(iprot.readI32());"));
            }
            Type::Struct(_) => {
                let class = self.jtype(ty, from, false);
                o.open("");
                o.line(&format!("{class} _s{depth} = new {class}();"));
                o.line(&format!("_s{depth}.read(iprot);"));
                o.line(&format!("{target} = _s{depth};"));
                o.close();
            }
            Type::List(e) | Type::Set(e) => {
                let is_list = matches!(self.program.true_type(ty), Type::List(_));
                let (kind, header, imp) = if is_list {
                    ("List", "TList", "java.util.ArrayList")
                } else {
                    ("Set", "TSet", "java.util.LinkedHashSet")
                };
                let elem = self.jtype(e, from, true);
                o.open("");
                o.line(&format!(
                    "org.apache.thrift.protocol.{header} _h{depth} = iprot.read{kind}Begin();"
                ));
                o.open(&format!(
                    "if (_h{depth}.size > 0 && _h{depth}.elemType != {})",
                    self.ttype(e)
                ));
                self.skip_elements(o, depth, 1);
                o.line(&format!("iprot.read{kind}End();"));
                o.reopen("else");
                o.line(&format!(
                    "java.util.{kind}<{elem}> _c{depth} = new {imp}<>(_h{depth}.size);"
                ));
                o.open(&format!(
                    "for (int _i{depth} = 0; _i{depth} < _h{depth}.size; ++_i{depth})"
                ));
                let nested = self.is_container(e);
                o.line(&format!(
                    "{elem} _e{depth}{};",
                    if nested { " = null" } else { "" }
                ));
                self.read_value(o, e, &format!("_e{depth}"), from, depth + 1);
                if nested {
                    o.open(&format!("if (_e{depth} != null)"));
                    o.line(&format!("_c{depth}.add(_e{depth});"));
                    o.close();
                } else {
                    o.line(&format!("_c{depth}.add(_e{depth});"));
                }
                o.close();
                o.line(&format!("iprot.read{kind}End();"));
                o.line(&format!("{target} = _c{depth};"));
                o.close();
                o.close();
            }
            Type::Map(k, v) => {
                let kt = self.jtype(k, from, true);
                let vt = self.jtype(v, from, true);
                o.open("");
                o.line(&format!(
                    "org.apache.thrift.protocol.TMap _h{depth} = iprot.readMapBegin();"
                ));
                o.open(&format!(
                    "if (_h{depth}.size > 0 && (_h{depth}.keyType != {} || _h{depth}.valueType != {}))",
                    self.ttype(k),
                    self.ttype(v)
                ));
                self.skip_elements(o, depth, 2);
                o.line("iprot.readMapEnd();");
                o.reopen("else");
                o.line(&format!(
                    "java.util.Map<{kt}, {vt}> _c{depth} = new java.util.LinkedHashMap<>(_h{depth}.size);"
                ));
                o.open(&format!(
                    "for (int _i{depth} = 0; _i{depth} < _h{depth}.size; ++_i{depth})"
                ));
                let nested = self.is_container(k) || self.is_container(v);
                let init = if nested { " = null" } else { "" };
                o.line(&format!("{kt} _k{depth}{init};"));
                self.read_value(o, k, &format!("_k{depth}"), from, depth + 1);
                o.line(&format!("{vt} _v{depth}{init};"));
                self.read_value(o, v, &format!("_v{depth}"), from, depth + 1);
                if nested {
                    o.open(&format!("if (_k{depth} != null && _v{depth} != null)"));
                    o.line(&format!("_c{depth}.put(_k{depth}, _v{depth});"));
                    o.close();
                } else {
                    o.line(&format!("_c{depth}.put(_k{depth}, _v{depth});"));
                }
                o.close();
                o.line("iprot.readMapEnd();");
                o.line(&format!("{target} = _c{depth};"));
                o.close();
                o.close();
            }
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        }
    }

    /// Whether `ty` is a list, set or map.
    pub(crate) fn is_container(&self, ty: &Type) -> bool {
        matches!(
            self.program.true_type(ty),
            Type::List(_) | Type::Set(_) | Type::Map(..)
        )
    }

    /// Skips the `per_entry` values of each of `_h<depth>.size` entries of a container whose
    /// element types are not the IDL's: the container is left out, as a field of the wrong
    /// type is.
    fn skip_elements(&self, o: &mut Out, depth: usize, per_entry: usize) {
        o.open(&format!(
            "for (int _i{depth} = 0; _i{depth} < _h{depth}.size; ++_i{depth})"
        ));
        if per_entry == 2 {
            o.line(&format!(
                "org.apache.thrift.protocol.TProtocolUtil.skip(iprot, _h{depth}.keyType);"
            ));
            o.line(&format!(
                "org.apache.thrift.protocol.TProtocolUtil.skip(iprot, _h{depth}.valueType);"
            ));
        } else {
            o.line(&format!(
                "org.apache.thrift.protocol.TProtocolUtil.skip(iprot, _h{depth}.elemType);"
            ));
        }
        o.close();
    }

    /// Statements that write `value` (an expression of type `ty`) to `oprot`.
    pub(crate) fn write_value(
        &self,
        o: &mut Out,
        ty: &Type,
        value: &str,
        from: Option<&str>,
        depth: usize,
    ) {
        match self.program.true_type(ty) {
            Type::Bool => o.line(&format!("oprot.writeBool({value});")),
            Type::I8 => o.line(&format!("oprot.writeByte({value});")),
            Type::I16 => o.line(&format!("oprot.writeI16({value});")),
            Type::I32 => o.line(&format!("oprot.writeI32({value});")),
            Type::I64 => o.line(&format!("oprot.writeI64({value});")),
            Type::Double => o.line(&format!("oprot.writeDouble({value});")),
            Type::String => o.line(&format!("oprot.writeString({value});")),
            // libthrift writes a buffer through its backing array: read-only and direct
            // buffers (which have none) go out as a heap copy; the rest without a copy.
            Type::Binary => o.line(&format!(
                "oprot.writeBinary({value}.hasArray() ? {value} : \
                 org.apache.thrift.TBaseHelper.copyBinary({value}));"
            )),
            Type::Uuid => o.line(&format!("oprot.writeUuid({value});")),
            Type::Enum(_) => o.line(&format!("oprot.writeI32({value}.getValue());")),
            Type::Struct(_) => o.line(&format!("{value}.write(oprot);")),
            Type::List(e) | Type::Set(e) => {
                let (kind, header) = if matches!(self.program.true_type(ty), Type::List(_)) {
                    ("List", "TList")
                } else {
                    ("Set", "TSet")
                };
                o.line(&format!(
                    "oprot.write{kind}Begin(new org.apache.thrift.protocol.{header}({}, {value}.size()));",
                    self.ttype(e)
                ));
                let elem = self.jtype(e, from, true);
                o.open(&format!("for ({elem} _e{depth} : {value})"));
                self.write_value(o, e, &format!("_e{depth}"), from, depth + 1);
                o.close();
                o.line(&format!("oprot.write{kind}End();"));
            }
            Type::Map(k, v) => {
                o.line(&format!(
                    "oprot.writeMapBegin(new org.apache.thrift.protocol.TMap({}, {}, {value}.size()));",
                    self.ttype(k),
                    self.ttype(v)
                ));
                let kt = self.jtype(k, from, true);
                let vt = self.jtype(v, from, true);
                o.open(&format!(
                    "for (java.util.Map.Entry<{kt}, {vt}> _e{depth} : {value}.entrySet())"
                ));
                self.write_value(o, k, &format!("_e{depth}.getKey()"), from, depth + 1);
                self.write_value(o, v, &format!("_e{depth}.getValue()"), from, depth + 1);
                o.close();
                o.line("oprot.writeMapEnd();");
            }
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        }
    }

    /// Whether copying a value of `ty` needs more than assignment.
    pub(crate) fn needs_deep_copy(&self, ty: &Type) -> bool {
        matches!(
            self.program.true_type(ty),
            Type::Binary | Type::Struct(_) | Type::List(_) | Type::Set(_) | Type::Map(..)
        )
    }

    /// Statements that assign a deep copy of `value` (not null) to `target`.
    pub(crate) fn copy_value(
        &self,
        o: &mut Out,
        ty: &Type,
        value: &str,
        target: &str,
        from: Option<&str>,
        depth: usize,
    ) {
        match self.program.true_type(ty) {
            Type::Binary => o.line(&format!(
                "{target} = org.apache.thrift.TBaseHelper.copyBinary({value});"
            )),
            Type::Struct(_) => o.line(&format!("{target} = {value}.deepCopy();")),
            Type::List(e) | Type::Set(e) => {
                let (kind, imp) = if matches!(self.program.true_type(ty), Type::List(_)) {
                    ("List", "java.util.ArrayList")
                } else {
                    ("Set", "java.util.LinkedHashSet")
                };
                let elem = self.jtype(e, from, true);
                if !self.needs_deep_copy(e) {
                    o.line(&format!("{target} = new {imp}<>({value});"));
                    return;
                }
                o.open("");
                o.line(&format!(
                    "java.util.{kind}<{elem}> _c{depth} = new {imp}<>({value}.size());"
                ));
                o.open(&format!("for ({elem} _e{depth} : {value})"));
                o.line(&format!("{elem} _d{depth};"));
                self.copy_value(
                    o,
                    e,
                    &format!("_e{depth}"),
                    &format!("_d{depth}"),
                    from,
                    depth + 1,
                );
                o.line(&format!("_c{depth}.add(_d{depth});"));
                o.close();
                o.line(&format!("{target} = _c{depth};"));
                o.close();
            }
            Type::Map(k, v) => {
                let kt = self.jtype(k, from, true);
                let vt = self.jtype(v, from, true);
                if !self.needs_deep_copy(k) && !self.needs_deep_copy(v) {
                    o.line(&format!(
                        "{target} = new java.util.LinkedHashMap<>({value});"
                    ));
                    return;
                }
                o.open("");
                o.line(&format!(
                    "java.util.Map<{kt}, {vt}> _c{depth} = new java.util.LinkedHashMap<>({value}.size());"
                ));
                o.open(&format!(
                    "for (java.util.Map.Entry<{kt}, {vt}> _e{depth} : {value}.entrySet())"
                ));
                o.line(&format!("{kt} _k{depth};"));
                self.copy_value(
                    o,
                    k,
                    &format!("_e{depth}.getKey()"),
                    &format!("_k{depth}"),
                    from,
                    depth + 1,
                );
                o.line(&format!("{vt} _v{depth};"));
                self.copy_value(
                    o,
                    v,
                    &format!("_e{depth}.getValue()"),
                    &format!("_v{depth}"),
                    from,
                    depth + 1,
                );
                o.line(&format!("_c{depth}.put(_k{depth}, _v{depth});"));
                o.close();
                o.line(&format!("{target} = _c{depth};"));
                o.close();
            }
            _ => o.line(&format!("{target} = {value};")),
        }
    }
}
