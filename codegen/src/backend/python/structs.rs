//! Struct, union and exception classes (and the `*_args`/`*_result` classes of services):
//! attributes, constructor, `read`, `write`, `validate`, equality, `repr` and `thrift_spec`.

use std::collections::BTreeSet;

use crate::ir::{ConstValue, Field, Requiredness, StructId, StructKind, Type};

use super::ident;
use super::text::{Expr, Out};
use super::types::immutable_annotation;
use super::Cx;

/// A field as the class sees it.
pub(crate) struct PyField<'a> {
    /// The attribute (and keyword argument) name.
    pub name: String,
    /// The name on the wire (`writeFieldBegin`).
    pub wire: &'a str,
    pub id: i16,
    pub ty: &'a Type,
    pub required: bool,
    pub default: Option<&'a ConstValue>,
    pub doc: Option<&'a str>,
    /// The field's own container is frozen (`python.immutable` on its type).
    pub frozen: bool,
}

impl<'a> PyField<'a> {
    pub(crate) fn from_ir(field: &'a Field, name: String) -> Self {
        PyField {
            name,
            wire: &field.name,
            id: field.id,
            ty: &field.ty,
            required: field.requiredness == Requiredness::Required,
            default: field.default.as_ref(),
            doc: field.doc.as_deref(),
            frozen: immutable_annotation(&field.type_annotations).unwrap_or(false),
        }
    }
}

/// A class to generate.
pub(crate) struct PyStruct<'a> {
    pub name: String,
    /// The name `writeStructBegin` gets.
    pub wire: String,
    pub doc: Option<&'a str>,
    pub fields: Vec<PyField<'a>>,
    pub exception: bool,
    pub immutable: bool,
}

impl Cx<'_> {
    /// The class for an IDL struct, union or exception.
    pub(crate) fn ir_struct(&self, id: StructId) -> PyStruct<'_> {
        let s = self.program.struct_(id);
        let exception = s.kind == StructKind::Exception;
        PyStruct {
            name: self.struct_name(id),
            wire: s.name.clone(),
            doc: s.doc.as_deref(),
            fields: s
                .fields
                .iter()
                .map(|f| PyField::from_ir(f, ident::field(&f.name)))
                .collect(),
            exception,
            immutable: immutable_annotation(&s.annotations).unwrap_or(exception),
        }
    }

    /// Whether values of struct `id` are read with a classmethod (immutable classes).
    pub(crate) fn is_immutable(&self, id: StructId) -> bool {
        let s = self.program.struct_(id);
        immutable_annotation(&s.annotations).unwrap_or(s.kind == StructKind::Exception)
    }

    /// The class definition (without its `thrift_spec`, which [`Cx::spec`] writes later).
    pub(crate) fn class(&self, out: &mut Out, s: &PyStruct<'_>) {
        let base = if s.exception { "(TException):" } else { ":" };
        out.line(0, &format!("class {}{base}", s.name));
        if let Some(doc) = s.doc {
            out.docstring(1, doc);
            out.blank();
        }
        for f in &s.fields {
            out.line(1, &format!("{}: {} | None", f.name, self.field_hint(s, f)));
            if let Some(doc) = f.doc {
                out.docstring(1, doc);
            }
        }
        let hint = self.class_hint(s, "ClassVar[tuple[Any, ...] | None]");
        out.line(1, &format!("thrift_spec: {hint}"));
        out.blank();
        self.init(out, s);
        if s.immutable {
            out.blank();
            let (str_, object) = (self.class_hint(s, "str"), self.class_hint(s, "object"));
            for (method, args) in [
                ("__setattr__", format!("name: {str_}, value: {object}")),
                ("__delattr__", format!("name: {str_}")),
            ] {
                out.line(1, &format!("def {method}(self, {args}) -> None:"));
                // Python's own machinery sets dunder attributes (`__traceback__`) on exceptions.
                out.line(2, "if name.startswith(\"__\"):");
                let call = if method == "__setattr__" {
                    "super().__setattr__(name, value)"
                } else {
                    "super().__delattr__(name)"
                };
                out.line(3, call);
                out.line(3, "return");
                out.line(2, "raise TypeError(\"can't modify immutable instance\")");
                out.blank();
            }
            let values: Vec<Expr> = s
                .fields
                .iter()
                .map(|f| Expr::atom(format!("self.{}", f.name)))
                .collect();
            out.line(
                1,
                &format!("def __hash__(self) -> {}:", self.class_hint(s, "int")),
            );
            out.expr(
                2,
                "return hash(self.__class__) ^ hash(",
                &Expr::tuple(values),
                ")",
            );
        }
        out.blank();
        if s.immutable {
            self.read_classmethod(out, s);
        } else {
            self.read_method(out, s);
        }
        out.blank();
        self.write_method(out, s);
        out.blank();
        out.line(1, "def validate(self) -> None:");
        let required: Vec<&PyField<'_>> = s.fields.iter().filter(|f| f.required).collect();
        if required.is_empty() {
            out.line(2, "return");
        }
        for f in required {
            out.line(2, &format!("if self.{} is None:", f.name));
            let message = format!("Required field {} is unset!", f.name);
            out.expr(
                3,
                "raise ",
                &Expr::call(
                    "TProtocolException",
                    vec![Expr::prefixed(
                        "message=",
                        Expr::atom(super::text::string_literal(&message)),
                    )],
                ),
                "",
            );
        }
        out.blank();
        if s.exception {
            out.line(
                1,
                &format!("def __str__(self) -> {}:", self.class_hint(s, "str")),
            );
            out.line(2, "return repr(self)");
            out.blank();
        }
        out.line(
            1,
            &format!("def __repr__(self) -> {}:", self.class_hint(s, "str")),
        );
        out.line(
            2,
            "fields = \", \".join(f\"{key}={value!r}\" for key, value in self.__dict__.items())",
        );
        out.line(2, "return f\"{self.__class__.__name__}({fields})\"");
        out.blank();
        let (object, bool_) = (self.class_hint(s, "object"), self.class_hint(s, "bool"));
        out.line(1, &format!("def __eq__(self, other: {object}) -> {bool_}:"));
        out.line(
            2,
            "return isinstance(other, self.__class__) and self.__dict__ == other.__dict__",
        );
        out.blank();
        out.line(1, &format!("def __ne__(self, other: {object}) -> {bool_}:"));
        out.line(2, "return not self == other");
    }

    fn init(&self, out: &mut Out, s: &PyStruct<'_>) {
        let mut params = vec![Expr::atom("self")];
        let mut fills = Vec::new();
        for f in &s.fields {
            let hint = self.field_hint(s, f);
            let default = match f.default {
                Some(v) if self.is_simple_default(f.ty) => self.const_value(f.ty, v, f.frozen),
                Some(v) => {
                    fills.push((f.name.clone(), self.const_expr(f.ty, v, f.frozen)));
                    "_UNSET".to_string()
                }
                None => "None".to_string(),
            };
            params.push(Expr::atom(format!("{}: {hint} | None = {default}", f.name)));
        }
        out.expr(1, "def ", &Expr::call("__init__", params), " -> None:");
        for (name, value) in &fills {
            // A fresh value per instance; an explicit None still means "unset".
            out.line(2, &format!("if {name} is _UNSET:"));
            out.expr(3, &format!("{name} = "), value, "");
        }
        for f in &s.fields {
            if s.immutable {
                out.line(2, &format!("super().__setattr__(\"{0}\", {0})", f.name));
            } else {
                out.line(2, &format!("self.{0} = {0}", f.name));
            }
        }
        if s.fields.is_empty() {
            out.line(2, "pass");
        }
    }

    /// A field's hint as written in its class (field names shadow types there).
    fn field_hint(&self, s: &PyStruct<'_>, f: &PyField<'_>) -> String {
        let hint = self.short_hint(&f.name, self.hint(f.ty, f.frozen));
        self.unshadow(&hint, &Self::field_names(s))
    }

    /// A type as written in a class's own annotations (its methods' too): a field named
    /// `str` or `object` would otherwise stand for the type there.
    fn class_hint(&self, s: &PyStruct<'_>, hint: &str) -> String {
        self.unshadow(hint, &Self::field_names(s))
    }

    fn field_names(s: &PyStruct<'_>) -> BTreeSet<String> {
        s.fields.iter().map(|f| f.name.clone()).collect()
    }

    /// Whether a default of this type can be the parameter's default value itself (immutable
    /// and defined before the class).
    fn is_simple_default(&self, ty: &Type) -> bool {
        !matches!(
            self.program.true_type(ty),
            Type::List(_) | Type::Set(_) | Type::Map(..) | Type::Struct(_)
        )
    }

    fn fast_check(&self, out: &mut Out, receiver: &str) {
        out.line(2, "if (");
        out.line(3, "iprot._fast_decode is not None");
        out.line(
            3,
            "and isinstance(iprot.trans, TTransport.CReadableTransport)",
        );
        out.line(3, &format!("and {receiver}.thrift_spec is not None"));
        out.line(2, "):");
    }

    fn read_method(&self, out: &mut Out, s: &PyStruct<'_>) {
        let protocol = self.class_hint(s, "TProtocolBase");
        out.line(1, &format!("def read(self, iprot: {protocol}) -> None:"));
        self.fast_check(out, "self");
        out.line(
            3,
            "iprot._fast_decode(self, iprot, [self.__class__, self.thrift_spec])",
        );
        out.line(3, "return");
        self.read_loop(out, s, |f| format!("self.{}", f.name));
    }

    fn read_classmethod(&self, out: &mut Out, s: &PyStruct<'_>) {
        out.line(1, "@classmethod");
        let class = self.class_hint(s, &s.name);
        let protocol = self.class_hint(s, "TProtocolBase");
        out.line(1, &format!("def read(cls, iprot: {protocol}) -> {class}:"));
        self.fast_check(out, "cls");
        let decode = Expr::call(
            "iprot._fast_decode",
            vec![
                Expr::atom("None"),
                Expr::atom("iprot"),
                Expr::atom("[cls, cls.thrift_spec]"),
            ],
        );
        out.expr(3, &format!("decoded: {} = ", s.name), &decode, "");
        out.line(3, "return decoded");
        for f in &s.fields {
            out.line(2, &format!("_{}: Any = None", f.name));
        }
        self.read_loop(out, s, |f| format!("_{}", f.name));
        let args = s
            .fields
            .iter()
            .map(|f| Expr::atom(format!("{0}=_{0}", f.name)))
            .collect();
        out.expr(2, "return ", &Expr::call("cls", args), "");
    }

    fn read_loop(&self, out: &mut Out, s: &PyStruct<'_>, target: impl Fn(&PyField<'_>) -> String) {
        out.line(2, "iprot.readStructBegin()");
        out.line(2, "while True:");
        out.line(3, "_, ftype, fid = iprot.readFieldBegin()");
        out.line(3, "if ftype == TType.STOP:");
        out.line(4, "break");
        let mut first = true;
        for f in &s.fields {
            let kw = if first { "if" } else { "elif" };
            first = false;
            out.line(3, &format!("{kw} fid == {}:", f.id));
            out.line(4, &format!("if ftype == {}:", self.ttype(f.ty)));
            let value = self.read_value(out, 5, f.ty, f.frozen);
            out.expr(5, &format!("{} = ", target(f)), &value, "");
            out.line(4, "else:");
            out.line(5, "iprot.skip(ftype)");
        }
        if s.fields.is_empty() {
            out.line(3, "iprot.skip(ftype)");
        } else {
            out.line(3, "else:");
            out.line(4, "iprot.skip(ftype)");
        }
        out.line(3, "iprot.readFieldEnd()");
        out.line(2, "iprot.readStructEnd()");
    }

    /// Writes the statements that read one value of `ty` and returns the expression that
    /// holds it.
    pub(crate) fn read_value(&self, out: &mut Out, level: usize, ty: &Type, frozen: bool) -> Expr {
        let atom = |s: &str| Expr::atom(s);
        match self.program.true_type(ty) {
            Type::Bool => atom("iprot.readBool()"),
            Type::I8 => atom("iprot.readByte()"),
            Type::I16 => atom("iprot.readI16()"),
            Type::I32 => atom("iprot.readI32()"),
            Type::I64 => atom("iprot.readI64()"),
            Type::Double => atom("iprot.readDouble()"),
            Type::String => atom("iprot.readString()"),
            Type::Binary => atom("iprot.readBinary()"),
            Type::Uuid => atom("iprot.readUuid()"),
            Type::Enum(id) => Expr::call(
                &self.type_ref(self.program.enum_(*id).file, &self.enum_name(*id)),
                vec![atom("iprot.readI32()")],
            ),
            Type::Struct(id) => {
                let class = self.type_ref(self.program.struct_(*id).file, &self.struct_name(*id));
                if self.is_immutable(*id) {
                    Expr::atom(format!("{class}.read(iprot)"))
                } else {
                    let tmp = self.temp("struct");
                    out.expr(
                        level,
                        &format!("{tmp} = "),
                        &Expr::atom(format!("{class}()")),
                        "",
                    );
                    out.line(level, &format!("{tmp}.read(iprot)"));
                    Expr::atom(tmp)
                }
            }
            Type::List(elem) => {
                let tmp = self.temp("list");
                let size = self.temp("size");
                out.line(level, &format!("{tmp}: list[Any] = []"));
                out.line(level, &format!("_, {size} = iprot.readListBegin()"));
                out.line(level, &format!("for _ in range({size}):"));
                let value = self.read_value(out, level + 1, elem, frozen);
                out.expr(
                    level + 1,
                    "",
                    &Expr::call(&format!("{tmp}.append"), vec![value]),
                    "",
                );
                out.line(level, "iprot.readListEnd()");
                if frozen {
                    Expr::atom(format!("tuple({tmp})"))
                } else {
                    Expr::atom(tmp)
                }
            }
            Type::Set(elem) => {
                let tmp = self.temp("set");
                let size = self.temp("size");
                out.line(level, &format!("{tmp}: set[Any] = set()"));
                out.line(level, &format!("_, {size} = iprot.readSetBegin()"));
                out.line(level, &format!("for _ in range({size}):"));
                let value = self.read_value(out, level + 1, elem, true);
                out.expr(
                    level + 1,
                    "",
                    &Expr::call(&format!("{tmp}.add"), vec![value]),
                    "",
                );
                out.line(level, "iprot.readSetEnd()");
                if frozen {
                    Expr::atom(format!("frozenset({tmp})"))
                } else {
                    Expr::atom(tmp)
                }
            }
            Type::Map(k, v) => {
                let tmp = self.temp("map");
                let size = self.temp("size");
                let key = self.temp("key");
                out.line(level, &format!("{tmp}: dict[Any, Any] = {{}}"));
                out.line(level, &format!("_, _, {size} = iprot.readMapBegin()"));
                out.line(level, &format!("for _ in range({size}):"));
                let kv = self.read_value(out, level + 1, k, true);
                out.expr(level + 1, &format!("{key} = "), &kv, "");
                let vv = self.read_value(out, level + 1, v, frozen);
                out.expr(level + 1, &format!("{tmp}[{key}] = "), &vv, "");
                out.line(level, "iprot.readMapEnd()");
                if frozen {
                    Expr::atom(format!("TFrozenDict({tmp})"))
                } else {
                    Expr::atom(tmp)
                }
            }
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        }
    }

    fn write_method(&self, out: &mut Out, s: &PyStruct<'_>) {
        let protocol = self.class_hint(s, "TProtocolBase");
        out.line(1, &format!("def write(self, oprot: {protocol}) -> None:"));
        out.line(
            2,
            "if oprot._fast_encode is not None and self.thrift_spec is not None:",
        );
        out.line(3, "oprot.trans.write(");
        out.line(
            4,
            "oprot._fast_encode(self, [self.__class__, self.thrift_spec])",
        );
        out.line(3, ")");
        out.line(3, "return");
        out.line(
            2,
            &format!(
                "oprot.writeStructBegin({})",
                super::text::string_literal(&s.wire)
            ),
        );
        for f in &s.fields {
            out.line(2, &format!("if self.{} is not None:", f.name));
            let begin = Expr::call(
                "oprot.writeFieldBegin",
                vec![
                    Expr::atom(super::text::string_literal(f.wire)),
                    Expr::atom(self.ttype(f.ty)),
                    Expr::atom(f.id.to_string()),
                ],
            );
            out.expr(3, "", &begin, "");
            self.write_value(out, 3, f.ty, &format!("self.{}", f.name));
            out.line(3, "oprot.writeFieldEnd()");
        }
        out.line(2, "oprot.writeFieldStop()");
        out.line(2, "oprot.writeStructEnd()");
    }

    /// Writes the statements that write `value` of type `ty`.
    pub(crate) fn write_value(&self, out: &mut Out, level: usize, ty: &Type, value: &str) {
        let mut call = |method: &str| {
            let e = Expr::call(&format!("oprot.{method}"), vec![Expr::atom(value)]);
            out.expr(level, "", &e, "");
        };
        match self.program.true_type(ty) {
            Type::Bool => call("writeBool"),
            Type::I8 => call("writeByte"),
            Type::I16 => call("writeI16"),
            Type::I32 | Type::Enum(_) => call("writeI32"),
            Type::I64 => call("writeI64"),
            Type::Double => call("writeDouble"),
            Type::String => call("writeString"),
            Type::Binary => call("writeBinary"),
            Type::Uuid => call("writeUuid"),
            Type::Struct(_) => out.line(level, &format!("{value}.write(oprot)")),
            Type::List(elem) | Type::Set(elem) => {
                let (begin, end) = if matches!(self.program.true_type(ty), Type::List(_)) {
                    ("writeListBegin", "writeListEnd")
                } else {
                    ("writeSetBegin", "writeSetEnd")
                };
                let e = Expr::call(
                    &format!("oprot.{begin}"),
                    vec![
                        Expr::atom(self.ttype(elem)),
                        Expr::atom(format!("len({value})")),
                    ],
                );
                out.expr(level, "", &e, "");
                let item = self.temp("elem");
                out.line(level, &format!("for {item} in {value}:"));
                self.write_value(out, level + 1, elem, &item);
                out.line(level, &format!("oprot.{end}()"));
            }
            Type::Map(k, v) => {
                let e = Expr::call(
                    "oprot.writeMapBegin",
                    vec![
                        Expr::atom(self.ttype(k)),
                        Expr::atom(self.ttype(v)),
                        Expr::atom(format!("len({value})")),
                    ],
                );
                out.expr(level, "", &e, "");
                let key = self.temp("key");
                let val = self.temp("value");
                out.line(level, &format!("for {key}, {val} in {value}.items():"));
                self.write_value(out, level + 1, k, &key);
                self.write_value(out, level + 1, v, &val);
                out.line(level, "oprot.writeMapEnd()");
            }
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        }
    }

    /// `all_structs.append(C)` and `C.thrift_spec = (...)`, indexed by field id.
    ///
    /// A struct with negative field ids (ids the IDL left out) gets `None`: the table is
    /// indexed by id, and without one every protocol takes the pure-Python path, which
    /// handles any id (Apache writes an empty table, which the C extension then encodes as
    /// an empty struct).
    pub(crate) fn spec(&self, out: &mut Out, s: &PyStruct<'_>) {
        if s.fields.iter().any(|f| f.id < 0) {
            out.line(0, &format!("{}.thrift_spec = None", s.name));
            return;
        }
        out.line(0, &format!("all_structs.append({})", s.name));
        let max = s.fields.iter().map(|f| f.id).max().unwrap_or(-1);
        let mut items = Vec::new();
        for id in 0..=max {
            let entry = s.fields.iter().find(|f| f.id == id).map(|f| {
                let default = match f.default {
                    Some(v) => self.const_value(f.ty, v, f.frozen),
                    None => "None".into(),
                };
                Expr::tuple(vec![
                    Expr::atom(id.to_string()),
                    Expr::atom(self.ttype(f.ty)),
                    Expr::atom(super::text::string_literal(&f.name)),
                    self.spec_args(f.ty, f.frozen),
                    Expr::atom(default),
                ])
            });
            items.push(entry.unwrap_or_else(|| Expr::atom("None")));
        }
        let spec = Expr::Seq {
            open: "(".into(),
            items,
            close: ")".into(),
            one_tuple: max == 0,
        };
        out.expr(0, &format!("{}.thrift_spec = ", s.name), &spec, "");
    }
}

/// The imports of modules that define structs.
pub(crate) const STRUCT_IMPORTS: &[&str] = &[
    "import enum",
    "import uuid",
    "from typing import Any, ClassVar, TypeAlias",
    "",
    "from thrift.protocol.TProtocol import TProtocolBase, TProtocolException",
    "from thrift.Thrift import TException, TFrozenDict, TType",
    "from thrift.transport import TTransport",
    "from thrift.TRecursive import fix_spec",
];

impl Cx<'_> {
    /// `ttypes.py`: enums first (struct defaults may name their members), then structs,
    /// unions and exceptions in declaration order, then their `thrift_spec` tables.
    pub(crate) fn types_module(&self) -> String {
        let file = self.program.file(self.file);
        let mut blocks = Vec::new();
        let mut names: Vec<Expr> = Vec::new();
        for def in &file.definitions {
            match def {
                crate::ir::Definition::Enum(id) => names.push(Expr::atom(
                    super::text::string_literal(&self.enum_name(*id)),
                )),
                crate::ir::Definition::Struct(id) => names.push(Expr::atom(
                    super::text::string_literal(&self.struct_name(*id)),
                )),
                _ => {}
            }
        }
        let mut all = Out::default();
        all.expr(0, "__all__ = ", &Expr::brackets("[", names, "]"), "");
        blocks.push(all.finish());
        for def in &file.definitions {
            if let crate::ir::Definition::Enum(id) = def {
                let mut out = Out::default();
                self.enum_class(&mut out, *id);
                blocks.push(out.finish());
            }
        }
        let structs: Vec<PyStruct<'_>> = file
            .definitions
            .iter()
            .filter_map(|def| match def {
                crate::ir::Definition::Struct(id) => Some(self.ir_struct(*id)),
                _ => None,
            })
            .collect();
        for s in &structs {
            let mut out = Out::default();
            self.class(&mut out, s);
            blocks.push(out.finish());
        }
        let mut tail = Out::default();
        tail.line(0, "all_structs: list[Any] = []");
        for s in &structs {
            self.spec(&mut tail, s);
        }
        tail.line(0, "fix_spec(all_structs)");
        tail.line(0, "del all_structs");
        blocks.push(tail.finish());
        let body = format!("\n\n{}", blocks.join("\n\n"));
        self.module(file.doc.as_deref(), STRUCT_IMPORTS, &body)
    }
}
