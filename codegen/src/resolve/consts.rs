//! Constant values: checking them against their types and converting them.
//!
//! The rules are Apache's, made stricter where Apache lets a value through that cannot be
//! represented: integers must fit their type, `bool` takes `true`, `false`, 0 or 1, an enum
//! takes one of its values (by name, `Enum.VALUE`, or by number), a struct takes a map literal
//! keyed by field names, a `uuid` takes a string in the canonical form (or with braces).
//! A name may stand for another constant, which is then converted to the type at hand.

use super::lower::Resolver;
use super::scope::ValueSym;
use crate::diag::{codes, Diagnostic};
use crate::ir::{ConstId, ConstValue, StructKind, Type};
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, ConstExpr, ConstKind};

/// Where a constant is in its resolution.
#[derive(Clone, Debug)]
pub(super) enum State {
    Todo,
    /// Being converted: reaching it again means a cycle.
    Active,
    Done(Option<ConstValue>),
}

fn describe(e: &ConstExpr) -> &'static str {
    match e.kind {
        ConstKind::Int(_) => "an integer",
        ConstKind::Double(_) => "a floating-point number",
        ConstKind::Bool(_) => "a boolean",
        ConstKind::String(_) => "a string",
        ConstKind::Ident(_) => "a name",
        ConstKind::List(_) => "a list",
        ConstKind::Map(_) => "a map",
    }
}

fn describe_value(v: &ConstValue) -> &'static str {
    match v {
        ConstValue::Bool(_) => "a boolean",
        ConstValue::Int(_) => "an integer",
        ConstValue::Double(_) => "a floating-point number",
        ConstValue::String(_) => "a string",
        ConstValue::Uuid(_) => "a uuid",
        ConstValue::Enum(..) => "an enum value",
        ConstValue::List(_) => "a list",
        ConstValue::Set(_) => "a set",
        ConstValue::Map(_) => "a map",
        ConstValue::Struct(..) => "a struct",
    }
}

fn int_range(t: &Type) -> Option<(i64, i64)> {
    Some(match t {
        Type::I8 => (i8::MIN.into(), i8::MAX.into()),
        Type::I16 => (i16::MIN.into(), i16::MAX.into()),
        Type::I32 => (i32::MIN.into(), i32::MAX.into()),
        Type::I64 => (i64::MIN, i64::MAX),
        _ => return None,
    })
}

/// Parses `01234567-89ab-cdef-0123-456789abcdef`, optionally in braces, into 16 bytes.
pub(crate) fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let s = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(s);
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
    if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

impl Resolver {
    pub(super) fn lower_consts(&mut self, docs: &[ast::Document]) {
        for i in 0..self.program.consts.len() {
            self.const_value(docs, ConstId(i as u32), None);
        }
    }

    /// Converts field defaults (struct fields and function arguments).
    pub(super) fn lower_defaults(&mut self, docs: &[ast::Document]) {
        for i in 0..self.program.structs.len() {
            let (file, index) = self.struct_origin[i];
            let ast::Definition::Struct(s) = &docs[file.index()].definitions[index] else {
                continue;
            };
            let mut first_default: Option<Span> = None;
            for (j, f) in s.fields.iter().enumerate() {
                let Some(expr) = &f.default else { continue };
                if self.program.structs[i].kind == StructKind::Union {
                    if let Some(first) = first_default {
                        self.err_union_defaults(&s.name.name, expr.span, first);
                    }
                    first_default.get_or_insert(expr.span);
                }
                if self.is_bad(file, &f.ty) {
                    continue;
                }
                let ty = self.program.structs[i].fields[j].ty.clone();
                let v = self.convert(docs, file, expr, &ty);
                self.program.structs[i].fields[j].default = v;
            }
        }
        for i in 0..self.program.services.len() {
            let (file, index) = self.service_origin[i];
            let ast::Definition::Service(s) = &docs[file.index()].definitions[index] else {
                continue;
            };
            for (k, func) in s.functions.iter().enumerate() {
                for (j, f) in func.args.iter().enumerate() {
                    let Some(expr) = &f.default else { continue };
                    if self.is_bad(file, &f.ty) {
                        continue;
                    }
                    let ty = self.program.services[i].functions[k].args[j].ty.clone();
                    let v = self.convert(docs, file, expr, &ty);
                    self.program.services[i].functions[k].args[j].default = v;
                }
            }
        }
    }

    fn err_union_defaults(&mut self, name: &str, span: Span, first: Span) {
        self.diags.push(
            Diagnostic::error(
                codes::UNION_DEFAULTS,
                format!("union `{name}` has more than one default value"),
            )
            .with_primary(span, "second default")
            .with_secondary(first, "first default")
            .with_note("a union holds one member, so at most one may have a default"),
        );
    }

    /// The converted value of a constant, resolving it first when needed. `use_site` is the
    /// span of a name referring to it (for cycle reports).
    fn const_value(
        &mut self,
        docs: &[ast::Document],
        id: ConstId,
        use_site: Option<Span>,
    ) -> Option<ConstValue> {
        match &self.const_state[id.index()] {
            State::Done(v) => return v.clone(),
            State::Active => {
                let c = &self.program.consts[id.index()];
                let mut d = Diagnostic::error(
                    codes::CONST_CYCLE,
                    format!("constant `{}` is defined in terms of itself", c.name),
                );
                if let Some(span) = use_site {
                    d = d.with_primary(span, "refers back to the constant being defined");
                }
                self.diags.push(d);
                return None;
            }
            State::Todo => {}
        }
        self.const_state[id.index()] = State::Active;
        let (file, index) = self.const_origin[id.index()];
        let ast::Definition::Const(c) = &docs[file.index()].definitions[index] else {
            return None;
        };
        let value = match self.resolve_type(file, &c.ty) {
            Some(ty) => {
                self.program.consts[id.index()].ty = ty.clone();
                self.convert(docs, file, &c.value, &ty)
            }
            None => None,
        };
        if let Some(v) = &value {
            self.program.consts[id.index()].value = v.clone();
        }
        self.const_state[id.index()] = State::Done(value.clone());
        value
    }

    fn mismatch(&mut self, ty: &Type, found: &str, span: Span) -> Option<ConstValue> {
        let name = self.type_name(ty);
        self.diags.push(
            Diagnostic::error(
                codes::CONST_MISMATCH,
                format!("expected a value of type `{name}`, found {found}"),
            )
            .with_primary(span, format!("expected `{name}`")),
        );
        None
    }

    fn check_int(&mut self, v: i64, ty: &Type, span: Span) -> Option<ConstValue> {
        let (lo, hi) = int_range(ty)?;
        if v < lo || v > hi {
            let name = self.type_name(ty);
            self.diags.push(
                Diagnostic::error(
                    codes::CONST_RANGE,
                    format!("integer {v} does not fit in `{name}`"),
                )
                .with_primary(span, format!("out of range for `{name}`"))
                .with_note(format!("`{name}` ranges from {lo} to {hi}")),
            );
            return None;
        }
        Some(ConstValue::Int(v))
    }

    fn enum_by_number(&mut self, e: crate::ir::EnumId, v: i64, span: Span) -> Option<ConstValue> {
        let en = self.program.enum_(e);
        if let Some(val) = en.values.iter().find(|x| i64::from(x.value) == v) {
            return Some(ConstValue::Enum(e, val.value));
        }
        let name = en.name.clone();
        self.diags.push(
            Diagnostic::error(
                codes::UNKNOWN_ENUM_VALUE,
                format!("enum `{name}` has no value {v}"),
            )
            .with_primary(span, "not a value of the enum")
            .with_help(format!(
                "use one of the values of `{name}`, such as `{name}.NAME`"
            )),
        );
        None
    }

    /// Checks `e` (written in `file`) against `ty` and converts it.
    pub(super) fn convert(
        &mut self,
        docs: &[ast::Document],
        file: FileId,
        e: &ConstExpr,
        ty: &Type,
    ) -> Option<ConstValue> {
        let target = self.program.true_type(ty).clone();
        if let ConstKind::Ident(name) = &e.kind {
            return self.convert_name(docs, file, name, e.span, ty);
        }
        match (&target, &e.kind) {
            (Type::Bool, ConstKind::Bool(b)) => Some(ConstValue::Bool(*b)),
            (Type::Bool, ConstKind::Int(v @ (0 | 1))) => Some(ConstValue::Bool(*v == 1)),
            (Type::Bool, ConstKind::Int(v)) => {
                self.diags.push(
                    Diagnostic::error(codes::CONST_RANGE, format!("integer {v} is not a `bool`"))
                        .with_primary(e.span, "expected `true`, `false`, 0 or 1"),
                );
                None
            }
            (Type::I8 | Type::I16 | Type::I32 | Type::I64, ConstKind::Int(v)) => {
                self.check_int(*v, &target, e.span)
            }
            (Type::I8 | Type::I16 | Type::I32 | Type::I64, ConstKind::Bool(b)) => {
                Some(ConstValue::Int(i64::from(*b)))
            }
            (Type::Double, ConstKind::Int(v)) => Some(ConstValue::Double(*v as f64)),
            (Type::Double, ConstKind::Double(v)) => Some(ConstValue::Double(*v)),
            (Type::String | Type::Binary, ConstKind::String(s)) => {
                Some(ConstValue::String(s.clone()))
            }
            (Type::Uuid, ConstKind::String(s)) => self.uuid(s, e.span),
            (Type::Enum(id), ConstKind::Int(v)) => self.enum_by_number(*id, *v, e.span),
            // Apache lets `{}` stand for an empty list or set (test/ThriftTest.thrift).
            (Type::List(_), ConstKind::Map(entries)) if entries.is_empty() => {
                Some(ConstValue::List(Vec::new()))
            }
            (Type::Set(_), ConstKind::Map(entries)) if entries.is_empty() => {
                Some(ConstValue::Set(Vec::new()))
            }
            (Type::List(elem), ConstKind::List(items)) => items
                .iter()
                .map(|i| self.convert(docs, file, i, elem))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(ConstValue::List),
            (Type::Set(elem), ConstKind::List(items)) => items
                .iter()
                .map(|i| self.convert(docs, file, i, elem))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(ConstValue::Set),
            (Type::Map(k, v), ConstKind::Map(entries)) => {
                let mut out = Vec::with_capacity(entries.len());
                let mut ok = true;
                for (ke, ve) in entries {
                    let kv = self.convert(docs, file, ke, k);
                    let vv = self.convert(docs, file, ve, v);
                    match (kv, vv) {
                        (Some(a), Some(b)) => out.push((a, b)),
                        _ => ok = false,
                    }
                }
                ok.then_some(ConstValue::Map(out))
            }
            (Type::Struct(id), ConstKind::Map(entries)) => {
                self.struct_literal(docs, file, *id, entries)
            }
            _ => self.mismatch(ty, describe(e), e.span),
        }
    }

    fn uuid(&mut self, s: &str, span: Span) -> Option<ConstValue> {
        match parse_uuid(s) {
            Some(b) => Some(ConstValue::Uuid(b)),
            None => {
                self.diags.push(
                    Diagnostic::error(codes::INVALID_UUID, format!("`{s}` is not a valid uuid"))
                        .with_primary(span, "invalid uuid")
                        .with_note("a uuid is written `01234567-89ab-cdef-0123-456789abcdef`, optionally in braces"),
                );
                None
            }
        }
    }

    fn struct_literal(
        &mut self,
        docs: &[ast::Document],
        file: FileId,
        id: crate::ir::StructId,
        entries: &[(ConstExpr, ConstExpr)],
    ) -> Option<ConstValue> {
        let mut out = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (k, v) in entries {
            let ConstKind::String(key) = &k.kind else {
                self.diags.push(
                    Diagnostic::error(
                        codes::CONST_MISMATCH,
                        format!("expected a field name in quotes, found {}", describe(k)),
                    )
                    .with_primary(k.span, "struct literal keys are field names")
                    .with_help("write the field name as a string: `{\"name\": value}`"),
                );
                ok = false;
                continue;
            };
            let s = self.program.struct_(id);
            let Some(field) = s.fields.iter().find(|f| f.name == *key) else {
                let name = s.name.clone();
                let known: Vec<String> = s.fields.iter().map(|f| format!("`{}`", f.name)).collect();
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_STRUCT_FIELD,
                    format!("`{name}` has no field named `{key}`"),
                )
                .with_primary(k.span, "unknown field");
                if !known.is_empty() {
                    d = d.with_note(format!("the fields of `{name}` are {}", known.join(", ")));
                }
                self.diags.push(d);
                ok = false;
                continue;
            };
            let (fid, fty) = (field.id, field.ty.clone());
            match self.convert(docs, file, v, &fty) {
                Some(val) => out.push((fid, val)),
                None => ok = false,
            }
        }
        ok.then_some(ConstValue::Struct(id, out))
    }

    /// A name used as a value: an enum value or another constant.
    fn convert_name(
        &mut self,
        docs: &[ast::Document],
        file: FileId,
        name: &str,
        span: Span,
        ty: &Type,
    ) -> Option<ConstValue> {
        let target = self.program.true_type(ty).clone();
        match self.scopes.lookup_value(file, name) {
            Some(ValueSym::EnumValue(e)) => {
                let value_name = name.rsplit('.').next().unwrap_or(name);
                if let Some(v) = self.enum_by_other_prefix(e, value_name, &target, span) {
                    return Some(v);
                }
                let en = self.program.enum_(e);
                let Some(v) = en.values.iter().find(|v| v.name == value_name) else {
                    let enum_name = en.name.clone();
                    self.diags.push(
                        Diagnostic::error(
                            codes::UNKNOWN_ENUM_VALUE,
                            format!("enum `{enum_name}` has no value named `{value_name}`"),
                        )
                        .with_primary(span, "unknown enum value"),
                    );
                    return None;
                };
                let value = ConstValue::Enum(e, v.value);
                self.coerce(value, ty, span)
            }
            Some(ValueSym::Const(c)) => {
                let value = self.const_value(docs, c, Some(span))?;
                self.coerce(value, ty, span)
            }
            None => {
                if let Some(v) = self.enum_by_file_prefix(file, name, &target) {
                    return Some(v);
                }
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_CONST,
                    format!("unknown constant or enum value `{name}`"),
                )
                .with_primary(span, "not defined");
                if let (Type::Enum(e), false) = (target, name.contains('.')) {
                    let en = self.program.enum_(e).name.clone();
                    d = d.with_help(format!(
                        "enum values are written with their enum: `{en}.{name}`"
                    ));
                }
                self.diags.push(d);
                None
            }
        }
    }

    /// Apache also takes `file.VALUE` for a value of an enum defined in `file`
    /// (test/py/explicit_module/test4.thrift): the enum's name may be left out.
    fn enum_by_file_prefix(&self, file: FileId, name: &str, target: &Type) -> Option<ConstValue> {
        let Type::Enum(e) = target else { return None };
        let (prefix, value_name) = name.rsplit_once('.')?;
        let en = self.program.enum_(*e);
        let stem_matches = self.program.files[file.index()].name == prefix && en.file == file
            || self.scopes.files[file.index()].includes.get(prefix) == Some(&en.file);
        let v = en.values.iter().find(|v| v.name == value_name)?;
        stem_matches.then_some(ConstValue::Enum(*e, v.value))
    }

    /// Apache reads `Other.VALUE` as a value of the expected enum when that enum has a value
    /// named `VALUE` and `Other` does not (test/EnumTest.thrift): accepted with a warning.
    fn enum_by_other_prefix(
        &mut self,
        written: crate::ir::EnumId,
        value_name: &str,
        target: &Type,
        span: Span,
    ) -> Option<ConstValue> {
        let Type::Enum(e) = target else { return None };
        if *e == written
            || self
                .program
                .enum_(written)
                .values
                .iter()
                .any(|v| v.name == value_name)
        {
            return None;
        }
        let en = self.program.enum_(*e);
        let v = en.values.iter().find(|v| v.name == value_name)?;
        let value = ConstValue::Enum(*e, v.value);
        let (want, got) = (en.name.clone(), self.program.enum_(written).name.clone());
        self.diags.push(
            Diagnostic::warning(
                codes::ENUM_PREFIX,
                format!("`{got}.{value_name}` is read as `{want}.{value_name}`"),
            )
            .with_primary(span, format!("`{got}` has no value `{value_name}`"))
            .with_help(format!("write `{want}.{value_name}`")),
        );
        Some(value)
    }

    /// Converts an already converted value (another constant's) to `ty`.
    fn coerce(&mut self, value: ConstValue, ty: &Type, span: Span) -> Option<ConstValue> {
        let target = self.program.true_type(ty).clone();
        match (&target, value) {
            (Type::Bool, ConstValue::Bool(b)) => Some(ConstValue::Bool(b)),
            (Type::Bool, ConstValue::Int(v @ (0 | 1))) => Some(ConstValue::Bool(v == 1)),
            (Type::I8 | Type::I16 | Type::I32 | Type::I64, ConstValue::Int(v)) => {
                self.check_int(v, &target, span)
            }
            (Type::I8 | Type::I16 | Type::I32 | Type::I64, ConstValue::Bool(b)) => {
                Some(ConstValue::Int(i64::from(b)))
            }
            (Type::I8 | Type::I16 | Type::I32 | Type::I64, ConstValue::Enum(_, v)) => {
                self.check_int(v.into(), &target, span)
            }
            (Type::Double, ConstValue::Int(v)) => Some(ConstValue::Double(v as f64)),
            (Type::Double, ConstValue::Double(v)) => Some(ConstValue::Double(v)),
            (Type::String | Type::Binary, ConstValue::String(s)) => Some(ConstValue::String(s)),
            (Type::Uuid, ConstValue::Uuid(b)) => Some(ConstValue::Uuid(b)),
            (Type::Uuid, ConstValue::String(s)) => self.uuid(&s, span),
            (Type::Enum(e), ConstValue::Enum(f, v)) if *e == f => Some(ConstValue::Enum(f, v)),
            (Type::Enum(e), ConstValue::Enum(f, _)) => {
                let (want, got) = (
                    self.program.enum_(*e).name.clone(),
                    self.program.enum_(f).name.clone(),
                );
                self.diags.push(
                    Diagnostic::error(
                        codes::CONST_MISMATCH,
                        format!("expected a value of enum `{want}`, found a value of enum `{got}`"),
                    )
                    .with_primary(span, format!("expected `{want}`")),
                );
                None
            }
            (Type::Enum(e), ConstValue::Int(v)) => self.enum_by_number(*e, v, span),
            (Type::List(elem), ConstValue::List(items) | ConstValue::Set(items)) => items
                .into_iter()
                .map(|i| self.coerce(i, elem, span))
                .collect::<Option<Vec<_>>>()
                .map(ConstValue::List),
            (Type::Set(elem), ConstValue::List(items) | ConstValue::Set(items)) => items
                .into_iter()
                .map(|i| self.coerce(i, elem, span))
                .collect::<Option<Vec<_>>>()
                .map(ConstValue::Set),
            (Type::Map(k, v), ConstValue::Map(entries)) => entries
                .into_iter()
                .map(|(a, b)| Some((self.coerce(a, k, span)?, self.coerce(b, v, span)?)))
                .collect::<Option<Vec<_>>>()
                .map(ConstValue::Map),
            (Type::Struct(s), ConstValue::Struct(t, fields)) if *s == t => {
                Some(ConstValue::Struct(t, fields))
            }
            (_, v) => self.mismatch(ty, describe_value(&v), span),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_uuid;

    #[test]
    fn uuids_in_both_forms() {
        let a = parse_uuid("00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(
            a,
            Some([
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff
            ]),
            "canonical form, bytes in text order"
        );
        assert_eq!(
            parse_uuid("{00112233-4455-6677-8899-AABBCCDDEEFF}"),
            a,
            "braces and upper case"
        );
        assert_eq!(
            parse_uuid("00112233-4455-6677-8899-aabbccddeef"),
            None,
            "short"
        );
        assert_eq!(
            parse_uuid("0011223304455-6677-8899-aabbccddeeff"),
            None,
            "dash moved"
        );
        assert_eq!(
            parse_uuid("+0112233-4455-6677-8899-aabbccddeeff"),
            None,
            "sign"
        );
    }
}
