//! Constant values as Java: expressions for scalars, statements for containers and structs,
//! and the `<File>Constants` class, whose container constants are unmodifiable.

use super::out::Out;
use super::{ident, javadoc, Cx};
use crate::ir::{ConstValue, FileId, Type};

impl Cx<'_> {
    /// A Java expression for a scalar constant of type `ty`, or `None` when it needs
    /// statements ([`Cx::const_stmts`]).
    pub(crate) fn const_expr(
        &self,
        ty: &Type,
        value: &ConstValue,
        from: Option<&str>,
    ) -> Option<String> {
        let ty = self.program.true_type(ty);
        Some(match (ty, value) {
            (_, ConstValue::Bool(b)) => b.to_string(),
            (Type::I8, ConstValue::Int(i)) => format!("(byte) {i}"),
            (Type::I16, ConstValue::Int(i)) => format!("(short) {i}"),
            (Type::I64, ConstValue::Int(i)) => format!("{i}L"),
            (Type::Double, ConstValue::Int(i)) => format!("{i}.0"),
            (_, ConstValue::Int(i)) => i.to_string(),
            (_, ConstValue::Double(d)) => double_literal(*d),
            (Type::Binary, ConstValue::String(s)) => format!(
                "java.nio.ByteBuffer.wrap({}.getBytes(java.nio.charset.StandardCharsets.UTF_8))",
                ident::string_literal(s)
            ),
            (_, ConstValue::String(s)) => ident::string_literal(s),
            (_, ConstValue::Uuid(bytes)) => {
                let hi = u64::from_be_bytes(bytes[..8].try_into().expect("16 bytes"));
                let lo = u64::from_be_bytes(bytes[8..].try_into().expect("16 bytes"));
                format!("new java.util.UUID(0x{hi:016x}L, 0x{lo:016x}L)")
            }
            (_, ConstValue::Enum(id, v)) => {
                let e = self.program.enum_(*id);
                let class = self.class_ref(e.file, &e.name, from);
                match e.values.iter().find(|ev| ev.value == *v) {
                    Some(ev) => format!("{class}.{}", ident::enum_value(&e.name, &ev.name)),
                    None => format!("{class}.findByValue({v})"),
                }
            }
            _ => return None,
        })
    }

    /// Statements that build `value` and assign it to `target`; containers are mutable
    /// (`ArrayList`, `LinkedHashSet`, `LinkedHashMap`, keeping the IDL's order).
    pub(crate) fn const_stmts(
        &self,
        o: &mut Out,
        ty: &Type,
        value: &ConstValue,
        target: &str,
        from: Option<&str>,
        depth: usize,
    ) {
        if let Some(expr) = self.const_expr(ty, value, from) {
            o.line(&format!("{target} = {expr};"));
            return;
        }
        let jty = self.jtype(ty, from, false);
        let var = format!("_k{depth}");
        match (self.program.true_type(ty), value) {
            (Type::List(e) | Type::Set(e), ConstValue::List(items) | ConstValue::Set(items)) => {
                let imp = if matches!(self.program.true_type(ty), Type::List(_)) {
                    "java.util.ArrayList"
                } else {
                    "java.util.LinkedHashSet"
                };
                o.open("");
                o.line(&format!("{jty} {var} = new {imp}<>();"));
                for item in items {
                    self.add_item(o, e, item, &format!("{var}.add("), from, depth);
                }
                o.line(&format!("{target} = {var};"));
                o.close();
            }
            (Type::Map(k, v), ConstValue::Map(entries)) => {
                o.open("");
                o.line(&format!("{jty} {var} = new java.util.LinkedHashMap<>();"));
                for (key, val) in entries {
                    if let (Some(ke), Some(ve)) =
                        (self.const_expr(k, key, from), self.const_expr(v, val, from))
                    {
                        o.line(&format!("{var}.put({ke}, {ve});"));
                        continue;
                    }
                    let kt = self.jtype(k, from, true);
                    let vt = self.jtype(v, from, true);
                    o.open("");
                    o.line(&format!("{kt} _mk{depth};"));
                    self.const_stmts(o, k, key, &format!("_mk{depth}"), from, depth + 1);
                    o.line(&format!("{vt} _mv{depth};"));
                    self.const_stmts(o, v, val, &format!("_mv{depth}"), from, depth + 1);
                    o.line(&format!("{var}.put(_mk{depth}, _mv{depth});"));
                    o.close();
                }
                o.line(&format!("{target} = {var};"));
                o.close();
            }
            (Type::Struct(id), ConstValue::Struct(_, fields)) => {
                let s = self.program.struct_(*id);
                let infos = self.field_infos(s, from);
                o.open("");
                o.line(&format!("{jty} {var} = new {jty}();"));
                for (fid, fv) in fields {
                    let Some(info) = infos.iter().find(|f| f.field.id == *fid) else {
                        continue;
                    };
                    let call = format!("{var}.set{}(", info.acc);
                    self.add_item(o, &info.field.ty, fv, &call, from, depth);
                }
                o.line(&format!("{target} = {var};"));
                o.close();
            }
            _ => o.line(&format!("{target} = null; // unsupported constant shape")),
        }
    }

    /// `call<value>);` where `call` is `list.add(` or `s.setX(`.
    fn add_item(
        &self,
        o: &mut Out,
        ty: &Type,
        value: &ConstValue,
        call: &str,
        from: Option<&str>,
        depth: usize,
    ) {
        if let Some(expr) = self.const_expr(ty, value, from) {
            o.line(&format!("{call}{expr});"));
        } else {
            let jty = self.jtype(ty, from, false);
            o.open("");
            o.line(&format!("{jty} _i{depth};"));
            self.const_stmts(o, ty, value, &format!("_i{depth}"), from, depth + 1);
            o.line(&format!("{call}_i{depth});"));
            o.close();
        }
    }

    /// The `<File>Constants` class of a file.
    pub(crate) fn constants(&self, o: &mut Out, file: FileId) {
        let pkg = self.package(file);
        let from = pkg.as_deref();
        let f = self.program.file(file);
        let class = self.constants_class(file);
        o.line(&format!(
            "/** The constants of {}. */",
            ident::doc_text(&f.name)
        ));
        o.open(&format!("public final class {class}"));
        o.line(&format!("private {class}() {{}}"));
        let mut statics = Vec::new();
        for def in &f.definitions {
            let crate::ir::Definition::Const(id) = *def else {
                continue;
            };
            let c = self.program.const_(id);
            let name = ident::escape(&c.name);
            let jty = self.jtype(&c.ty, from, false);
            o.blank();
            javadoc(o, c.doc.as_deref());
            match self.const_expr(&c.ty, &c.value, from) {
                Some(expr) => o.line(&format!("public static final {jty} {name} = {expr};")),
                None => {
                    o.line(&format!("public static final {jty} {name};"));
                    statics.push(id);
                }
            }
        }
        if !statics.is_empty() {
            o.blank();
            o.open("static");
            for id in statics {
                let c = self.program.const_(id);
                let name = ident::escape(&c.name);
                // Constant containers cannot be changed (their elements are shallow copies).
                let wrap = match self.program.true_type(&c.ty) {
                    Type::List(_) => Some("unmodifiableList"),
                    Type::Set(_) => Some("unmodifiableSet"),
                    Type::Map(..) => Some("unmodifiableMap"),
                    _ => None,
                };
                match wrap {
                    Some(wrap) => {
                        o.open("");
                        o.line(&format!("{} _value;", self.jtype(&c.ty, from, false)));
                        self.const_stmts(o, &c.ty, &c.value, "_value", from, 1);
                        o.line(&format!("{name} = java.util.Collections.{wrap}(_value);"));
                        o.close();
                    }
                    None => self.const_stmts(o, &c.ty, &c.value, &name, from, 1),
                }
            }
            o.close();
        }
        o.close();
    }
}

/// A Java `double` literal that reads back to the same bits.
pub(crate) fn double_literal(d: f64) -> String {
    if d.is_nan() {
        "java.lang.Double.NaN".to_string()
    } else if d == f64::INFINITY {
        "java.lang.Double.POSITIVE_INFINITY".to_string()
    } else if d == f64::NEG_INFINITY {
        "java.lang.Double.NEGATIVE_INFINITY".to_string()
    } else {
        let s = format!("{d:?}");
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}
