//! Lowering syntax trees into the IR: declaring definitions, resolving type references, and
//! checking names and field ids.

use std::collections::{BTreeMap, BTreeSet};

use super::files::{self, stem};
use super::scope::{FileScope, Scopes, TypeSym};
use crate::diag::{codes, Diagnostic, SourceMap};
use crate::ir::{self, ConstId, EnumId, ServiceId, StructId, Type, TypedefId};
use crate::span::{FileId, Span};
use crate::syntax::ast;

/// Where a constant's or struct's syntax lives: file and index in its definitions.
pub(super) type Origin = (FileId, usize);

pub(super) struct Resolver {
    pub program: ir::Program,
    pub scopes: Scopes,
    pub diags: Vec<Diagnostic>,
    pub const_origin: Vec<Origin>,
    pub struct_origin: Vec<Origin>,
    pub service_origin: Vec<Origin>,
    pub typedef_origin: Vec<Origin>,
    pub enum_origin: Vec<Origin>,
    /// Type references (file, start) that failed to resolve: values of those types are not
    /// checked, so one unknown type gives one error.
    pub bad_types: BTreeSet<(FileId, u32)>,
    pub const_state: Vec<super::consts::State>,
}

/// Resolves everything loaded; returns the program (meaningful only without errors), the
/// sources and every diagnostic.
pub(super) fn resolve(loaded: files::Loaded) -> (ir::Program, SourceMap, Vec<Diagnostic>) {
    let files::Loaded {
        sources,
        docs,
        includes,
        roots,
        diags,
    } = loaded;
    let mut r = Resolver {
        program: ir::Program {
            roots,
            ..Default::default()
        },
        scopes: Scopes { files: Vec::new() },
        diags,
        const_origin: Vec::new(),
        struct_origin: Vec::new(),
        service_origin: Vec::new(),
        typedef_origin: Vec::new(),
        enum_origin: Vec::new(),
        bad_types: BTreeSet::new(),
        const_state: Vec::new(),
    };
    r.declare(&docs, &includes, &sources);
    r.check_namespaces(&docs);
    r.lower_typedefs(&docs);
    r.check_typedef_cycles(&docs);
    r.lower_enums(&docs);
    r.lower_structs(&docs);
    r.lower_services(&docs);
    r.check_extends_cycles(&docs);
    r.check_inherited_functions();
    r.lower_consts(&docs);
    r.lower_defaults(&docs);
    r.check_required_cycles(&docs);
    (r.program, sources, r.diags)
}

pub(super) fn annotations(list: &[ast::Annotation]) -> ir::Annotations {
    ir::Annotations(
        list.iter()
            .map(|a| ir::Annotation {
                key: a.key.name.clone(),
                value: a
                    .value
                    .as_ref()
                    .map_or_else(|| "1".to_string(), |v| v.value.clone()),
                span: a.span,
            })
            .collect(),
    )
}

/// What a field list belongs to, which decides requiredness rules and wording.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldsOf {
    Struct,
    Union,
    Exception,
    Args,
    Throws,
}

impl FieldsOf {
    fn noun(self) -> &'static str {
        match self {
            FieldsOf::Args => "argument",
            FieldsOf::Throws => "exception",
            _ => "field",
        }
    }
}

impl Resolver {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // ---- declaring ----

    fn declare(
        &mut self,
        docs: &[ast::Document],
        includes: &[Vec<(FileId, String)>],
        sources: &SourceMap,
    ) {
        for (i, doc) in docs.iter().enumerate() {
            let file = FileId(i as u32);
            let path = sources
                .path(file)
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            let mut scope = FileScope::default();
            for (inc, inc_stem) in &includes[i] {
                scope.includes.entry(inc_stem.clone()).or_insert(*inc);
            }
            let mut ir_file = ir::File {
                id: file,
                name: stem(&path),
                path,
                doc: doc.doc.clone(),
                namespaces: Vec::new(),
                includes: includes[i].iter().map(|(f, _)| *f).collect(),
                cpp_includes: Vec::new(),
                definitions: Vec::new(),
            };
            for h in &doc.headers {
                match h {
                    ast::Header::Include(_) => {}
                    ast::Header::CppInclude(s) => ir_file.cpp_includes.push(s.value.clone()),
                    ast::Header::Namespace(n) => ir_file.namespaces.push(ir::Namespace {
                        scope: n.scope.name.clone(),
                        name: n.name.name.clone(),
                        annotations: annotations(&n.annotations),
                        span: n.span,
                    }),
                }
            }
            for (index, def) in doc.definitions.iter().enumerate() {
                let d = self.declare_one(file, index, def, &mut scope);
                ir_file.definitions.push(d);
            }
            self.scopes.files.push(scope);
            self.program.files.push(ir_file);
        }
    }

    fn declare_one(
        &mut self,
        file: FileId,
        index: usize,
        def: &ast::Definition,
        scope: &mut FileScope,
    ) -> ir::Definition {
        let origin = (file, index);
        let name = def.name();
        let (d, sym) = match def {
            ast::Definition::Const(c) => {
                let id = ConstId(self.program.consts.len() as u32);
                self.program.consts.push(ir::Const {
                    id,
                    file,
                    name: c.name.name.clone(),
                    ty: Type::I32,
                    value: ir::ConstValue::Int(0),
                    doc: c.doc.clone(),
                    annotations: ir::Annotations::default(),
                    span: c.span,
                });
                self.const_origin.push(origin);
                self.const_state.push(super::consts::State::Todo);
                match scope.consts.get(&name.name) {
                    Some(&(_, first)) => self.duplicate(name, first, "constant"),
                    None => {
                        scope.consts.insert(name.name.clone(), (id, name.span));
                    }
                }
                return ir::Definition::Const(id);
            }
            ast::Definition::Typedef(t) => {
                let id = TypedefId(self.program.typedefs.len() as u32);
                self.program.typedefs.push(ir::Typedef {
                    id,
                    file,
                    name: t.name.name.clone(),
                    target: Type::I32,
                    doc: t.doc.clone(),
                    annotations: annotations(&t.annotations),
                    span: t.span,
                });
                self.typedef_origin.push(origin);
                (ir::Definition::Typedef(id), TypeSym::Typedef(id))
            }
            ast::Definition::Enum(e) => {
                let id = EnumId(self.program.enums.len() as u32);
                self.program.enums.push(ir::Enum {
                    id,
                    file,
                    name: e.name.name.clone(),
                    values: Vec::new(),
                    doc: e.doc.clone(),
                    annotations: annotations(&e.annotations),
                    span: e.span,
                });
                self.enum_origin.push(origin);
                (ir::Definition::Enum(id), TypeSym::Enum(id))
            }
            ast::Definition::Struct(s) => {
                let id = StructId(self.program.structs.len() as u32);
                self.program.structs.push(ir::Struct {
                    id,
                    file,
                    name: s.name.name.clone(),
                    kind: match s.kind {
                        ast::StructKind::Struct => ir::StructKind::Struct,
                        ast::StructKind::Union => ir::StructKind::Union,
                        ast::StructKind::Exception => ir::StructKind::Exception,
                    },
                    fields: Vec::new(),
                    doc: s.doc.clone(),
                    annotations: annotations(&s.annotations),
                    span: s.span,
                });
                self.struct_origin.push(origin);
                (ir::Definition::Struct(id), TypeSym::Struct(id))
            }
            ast::Definition::Service(s) => {
                let id = ServiceId(self.program.services.len() as u32);
                self.program.services.push(ir::Service {
                    id,
                    file,
                    name: s.name.name.clone(),
                    extends: None,
                    functions: Vec::new(),
                    doc: s.doc.clone(),
                    annotations: annotations(&s.annotations),
                    span: s.span,
                });
                self.service_origin.push(origin);
                (ir::Definition::Service(id), TypeSym::Service(id))
            }
        };
        match scope.types.get(&name.name) {
            Some(&(_, first)) => self.duplicate(name, first, "type"),
            None => {
                scope.types.insert(name.name.clone(), (sym, name.span));
            }
        }
        d
    }

    fn duplicate(&mut self, name: &ast::Ident, first: Span, what: &str) {
        self.err(
            Diagnostic::error(
                codes::DUPLICATE_DEFINITION,
                format!("the name `{}` is defined more than once", name.name),
            )
            .with_primary(name.span, format!("{what} `{}` redefined here", name.name))
            .with_secondary(first, "first defined here")
            .with_note("types, services and constants need unique names in their file"),
        );
    }

    // ---- types ----

    /// A display name for a type in messages: `i32`, `list<Foo>`, `shared.Foo`.
    pub(super) fn type_name(&self, t: &Type) -> String {
        match t {
            Type::Bool => "bool".into(),
            Type::I8 => "i8".into(),
            Type::I16 => "i16".into(),
            Type::I32 => "i32".into(),
            Type::I64 => "i64".into(),
            Type::Double => "double".into(),
            Type::String => "string".into(),
            Type::Binary => "binary".into(),
            Type::Uuid => "uuid".into(),
            Type::List(e) => format!("list<{}>", self.type_name(e)),
            Type::Set(e) => format!("set<{}>", self.type_name(e)),
            Type::Map(k, v) => format!("map<{}, {}>", self.type_name(k), self.type_name(v)),
            Type::Enum(id) => self.program.enum_(*id).name.clone(),
            Type::Struct(id) => self.program.struct_(*id).name.clone(),
            Type::Typedef(id) => self.program.typedef(*id).name.clone(),
        }
    }

    /// Resolves a type as written in `file`; `None` after reporting when it names nothing.
    pub(super) fn resolve_type(&mut self, file: FileId, t: &ast::TypeRef) -> Option<Type> {
        let ty = match &t.kind {
            ast::TypeKind::Base(b) => Some(match b {
                ast::BaseType::Bool => Type::Bool,
                ast::BaseType::I8 => Type::I8,
                ast::BaseType::I16 => Type::I16,
                ast::BaseType::I32 => Type::I32,
                ast::BaseType::I64 => Type::I64,
                ast::BaseType::Double => Type::Double,
                ast::BaseType::String => Type::String,
                ast::BaseType::Binary => Type::Binary,
                ast::BaseType::Uuid => Type::Uuid,
            }),
            ast::TypeKind::List(e) => self.resolve_type(file, e).map(|e| Type::List(Box::new(e))),
            ast::TypeKind::Set(e) => self.resolve_type(file, e).map(|e| Type::Set(Box::new(e))),
            ast::TypeKind::Map(k, v) => {
                let k = self.resolve_type(file, k);
                let v = self.resolve_type(file, v);
                Some(Type::Map(Box::new(k?), Box::new(v?)))
            }
            ast::TypeKind::Named(name) => self.resolve_named(file, name),
        };
        if ty.is_none() {
            self.bad_types.insert((file, t.span.start));
        }
        ty
    }

    fn resolve_named(&mut self, file: FileId, name: &ast::Ident) -> Option<Type> {
        match self.scopes.lookup_type(file, &name.name) {
            Some(TypeSym::Struct(id)) => Some(Type::Struct(id)),
            Some(TypeSym::Enum(id)) => Some(Type::Enum(id)),
            Some(TypeSym::Typedef(id)) => Some(Type::Typedef(id)),
            Some(TypeSym::Service(_)) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_KIND_OF_NAME,
                        format!("`{}` is a service, not a type", name.name),
                    )
                    .with_primary(name.span, "expected a type"),
                );
                None
            }
            None => {
                let mut d =
                    Diagnostic::error(codes::UNKNOWN_TYPE, format!("unknown type `{}`", name.name))
                        .with_primary(name.span, "not defined");
                if self.scopes.lookup_const(file, &name.name).is_some() {
                    d = Diagnostic::error(
                        codes::WRONG_KIND_OF_NAME,
                        format!("`{}` is a constant, not a type", name.name),
                    )
                    .with_primary(name.span, "expected a type");
                } else if let Some(prefix) = self.scopes.unknown_prefix(file, &name.name) {
                    d = d.with_help(format!(
                        "no included file is named `{prefix}`: add `include \"{prefix}.thrift\"`"
                    ));
                } else if !name.name.contains('.') {
                    d = d.with_help(format!(
                        "define `{}`, or write `file.{}` for a type from an included file",
                        name.name, name.name
                    ));
                }
                self.err(d);
                None
            }
        }
    }

    // ---- typedefs and enums ----

    fn lower_typedefs(&mut self, docs: &[ast::Document]) {
        for i in 0..self.program.typedefs.len() {
            let (file, index) = self.typedef_origin[i];
            let ast::Definition::Typedef(t) = &docs[file.index()].definitions[index] else {
                continue;
            };
            if let Some(target) = self.resolve_type(file, &t.ty) {
                self.program.typedefs[i].target = target;
            }
        }
    }

    fn lower_enums(&mut self, docs: &[ast::Document]) {
        for i in 0..self.program.enums.len() {
            let (file, index) = self.enum_origin[i];
            let ast::Definition::Enum(e) = &docs[file.index()].definitions[index] else {
                continue;
            };
            let mut values: Vec<ir::EnumValue> = Vec::new();
            let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
            let mut next: i64 = 0;
            for v in &e.values {
                let value = match v.value {
                    Some((n, span)) => {
                        if i32::try_from(n).is_err() {
                            self.err(
                                Diagnostic::error(
                                    codes::ENUM_VALUE_RANGE,
                                    format!("enum value `{}` does not fit in an i32", v.name.name),
                                )
                                .with_primary(span, "out of range")
                                .with_note("enum values range from -2147483648 to 2147483647"),
                            );
                        }
                        n
                    }
                    None => {
                        if i32::try_from(next).is_err() {
                            self.err(
                                Diagnostic::error(
                                    codes::ENUM_VALUE_RANGE,
                                    format!("implicit value of `{}` overflows an i32", v.name.name),
                                )
                                .with_primary(v.name.span, "the previous value is the largest i32")
                                .with_help("give this value explicitly"),
                            );
                        }
                        next
                    }
                };
                next = value.saturating_add(1);
                if let Some(&first) = seen.get(v.name.name.as_str()) {
                    self.err(
                        Diagnostic::error(
                            codes::DUPLICATE_ENUM_VALUE,
                            format!(
                                "enum `{}` has more than one value named `{}`",
                                e.name.name, v.name.name
                            ),
                        )
                        .with_primary(v.name.span, "defined again here")
                        .with_secondary(first, "first defined here"),
                    );
                } else {
                    seen.insert(&v.name.name, v.name.span);
                }
                values.push(ir::EnumValue {
                    name: v.name.name.clone(),
                    value: value.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                    doc: v.doc.clone(),
                    annotations: annotations(&v.annotations),
                    span: v.span,
                });
            }
            self.program.enums[i].values = values;
        }
    }

    // ---- structs and fields ----

    fn lower_structs(&mut self, docs: &[ast::Document]) {
        for i in 0..self.program.structs.len() {
            let (file, index) = self.struct_origin[i];
            let ast::Definition::Struct(s) = &docs[file.index()].definitions[index] else {
                continue;
            };
            let of = match s.kind {
                ast::StructKind::Struct => FieldsOf::Struct,
                ast::StructKind::Union => FieldsOf::Union,
                ast::StructKind::Exception => FieldsOf::Exception,
            };
            let fields = self.lower_fields(file, &s.fields, of, &s.name.name);
            self.program.structs[i].fields = fields;
        }
    }

    /// Lowers a field list: resolves types, assigns Apache's implicit ids (-1, -2, ...),
    /// and reports duplicate names and ids. Returns one IR field per syntax field.
    fn lower_fields(
        &mut self,
        file: FileId,
        fields: &[ast::Field],
        of: FieldsOf,
        owner: &str,
    ) -> Vec<ir::Field> {
        let mut out = Vec::with_capacity(fields.len());
        let mut next_implicit: i64 = -1;
        let mut names: BTreeMap<&str, Span> = BTreeMap::new();
        let mut ids: BTreeMap<i64, Span> = BTreeMap::new();
        let noun = of.noun();
        for f in fields {
            let (id, implicit, id_span) = match f.id {
                Some((n, span)) if n > 0 => (n, false, span),
                Some((n, span)) => {
                    let id = next_implicit;
                    next_implicit -= 1;
                    self.err(
                        Diagnostic::warning(
                            codes::NONPOSITIVE_FIELD_ID,
                            format!(
                                "{noun} id {n} of `{}` is not positive; using {id}",
                                f.name.name
                            ),
                        )
                        .with_primary(span, "ids must be 1 or more")
                        .with_note(
                            "Apache Thrift replaces ids of zero or less with implicit negative ids",
                        ),
                    );
                    (id, true, span)
                }
                None => {
                    let id = next_implicit;
                    next_implicit -= 1;
                    self.err(
                        Diagnostic::warning(
                            codes::IMPLICIT_FIELD_ID,
                            format!("{noun} `{}` has no id; using {id}", f.name.name),
                        )
                        .with_primary(f.name.span, "no explicit id")
                        .with_note("implicit ids change when fields are reordered, which breaks compatibility")
                        .with_help(format!("write an explicit id: `1: ... {}`", f.name.name)),
                    );
                    (id, true, f.name.span)
                }
            };
            if i16::try_from(id).is_err() {
                self.err(
                    Diagnostic::error(
                        codes::FIELD_ID_RANGE,
                        format!("{noun} id {id} of `{}` does not fit in an i16", f.name.name),
                    )
                    .with_primary(id_span, "out of range")
                    .with_note("field ids range from 1 to 32767"),
                );
            }
            if let Some(&first) = names.get(f.name.name.as_str()) {
                self.err(
                    Diagnostic::error(
                        codes::DUPLICATE_FIELD_NAME,
                        format!("`{owner}` has more than one {noun} named `{}`", f.name.name),
                    )
                    .with_primary(f.name.span, "used again here")
                    .with_secondary(first, "first used here"),
                );
            } else {
                names.insert(&f.name.name, f.name.span);
            }
            if let Some(&first) = ids.get(&id) {
                self.err(
                    Diagnostic::error(
                        codes::DUPLICATE_FIELD_ID,
                        format!("`{owner}` has more than one {noun} with id {id}"),
                    )
                    .with_primary(id_span, format!("id {id} used again here"))
                    .with_secondary(first, "first used here")
                    .with_help("give every field its own id"),
                );
            } else {
                ids.insert(id, id_span);
            }
            let mut requiredness = match f.requiredness {
                Some((ast::Requiredness::Required, _)) => ir::Requiredness::Required,
                Some((ast::Requiredness::Optional, _)) => ir::Requiredness::Optional,
                None => ir::Requiredness::Default,
            };
            if of == FieldsOf::Union {
                if let Some((ast::Requiredness::Required, span)) = f.requiredness {
                    self.err(
                        Diagnostic::warning(
                            codes::UNION_REQUIREDNESS,
                            format!("union member `{}` cannot be required", f.name.name),
                        )
                        .with_primary(span, "ignored")
                        .with_note("union members are always optional"),
                    );
                }
                requiredness = ir::Requiredness::Optional;
            }
            let ty = self.resolve_type(file, &f.ty).unwrap_or(Type::I32);
            if of == FieldsOf::Throws && !self.is_bad(file, &f.ty) {
                let is_exception = matches!(
                    self.program.true_type(&ty),
                    Type::Struct(id) if self.program.struct_(*id).kind == ir::StructKind::Exception
                );
                if !is_exception {
                    let name = self.type_name(&ty);
                    self.err(
                        Diagnostic::error(
                            codes::THROWS_NOT_EXCEPTION,
                            format!("`{name}` in a `throws` clause is not an exception"),
                        )
                        .with_primary(f.ty.span, "not an exception")
                        .with_help("only types declared with `exception` can be thrown"),
                    );
                }
            }
            out.push(ir::Field {
                id: id.clamp(i16::MIN as i64, i16::MAX as i64) as i16,
                implicit_id: implicit,
                name: f.name.name.clone(),
                ty,
                requiredness,
                default: None,
                type_annotations: annotations(&f.ty.annotations),
                annotations: annotations(&f.annotations),
                doc: f.doc.clone(),
                span: f.span,
            });
        }
        out
    }

    /// The span of a definition's name.
    pub(super) fn name_span(docs: &[ast::Document], (file, index): Origin) -> Span {
        docs[file.index()].definitions[index].name().span
    }

    pub(super) fn is_bad(&self, file: FileId, t: &ast::TypeRef) -> bool {
        self.bad_types.contains(&(file, t.span.start))
    }

    // ---- services ----

    fn lower_services(&mut self, docs: &[ast::Document]) {
        for i in 0..self.program.services.len() {
            let (file, index) = self.service_origin[i];
            let ast::Definition::Service(s) = &docs[file.index()].definitions[index] else {
                continue;
            };
            if let Some(ext) = &s.extends {
                self.program.services[i].extends = self.resolve_extends(file, ext);
            }
            let mut functions = Vec::with_capacity(s.functions.len());
            let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
            for f in &s.functions {
                if let Some(&first) = seen.get(f.name.name.as_str()) {
                    self.err(
                        Diagnostic::error(
                            codes::DUPLICATE_FUNCTION,
                            format!(
                                "service `{}` has more than one function named `{}`",
                                s.name.name, f.name.name
                            ),
                        )
                        .with_primary(f.name.span, "defined again here")
                        .with_secondary(first, "first defined here"),
                    );
                } else {
                    seen.insert(&f.name.name, f.name.span);
                }
                functions.push(self.lower_function(file, f));
            }
            self.program.services[i].functions = functions;
        }
    }

    fn resolve_extends(&mut self, file: FileId, ext: &ast::Ident) -> Option<ServiceId> {
        match self.scopes.lookup_type(file, &ext.name) {
            Some(TypeSym::Service(id)) => Some(id),
            Some(_) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_KIND_OF_NAME,
                        format!("`{}` is not a service", ext.name),
                    )
                    .with_primary(ext.span, "a service can only extend a service"),
                );
                None
            }
            None => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_SERVICE,
                    format!("unknown service `{}`", ext.name),
                )
                .with_primary(ext.span, "not defined");
                if let Some(prefix) = self.scopes.unknown_prefix(file, &ext.name) {
                    d = d.with_help(format!(
                        "no included file is named `{prefix}`: add `include \"{prefix}.thrift\"`"
                    ));
                }
                self.err(d);
                None
            }
        }
    }

    fn lower_function(&mut self, file: FileId, f: &ast::Function) -> ir::Function {
        let returns = f.returns.as_ref().map(|t| {
            let ty = self.resolve_type(file, t);
            ty.unwrap_or(Type::I32)
        });
        let args = self.lower_fields(file, &f.args, FieldsOf::Args, &f.name.name);
        let throws = self.lower_fields(file, &f.throws, FieldsOf::Throws, &f.name.name);
        if let Some(oneway) = f.oneway {
            if f.returns.is_some() {
                self.err(
                    Diagnostic::error(
                        codes::ONEWAY_RETURNS,
                        format!("oneway function `{}` returns a value", f.name.name),
                    )
                    .with_primary(f.returns_span, "a oneway call gets no reply to carry this")
                    .with_secondary(oneway, "declared oneway here")
                    .with_help("return `void`, or remove `oneway`"),
                );
            }
            if let Some(throws) = f.throws_span.filter(|_| !f.throws.is_empty()) {
                self.err(
                    Diagnostic::error(
                        codes::ONEWAY_THROWS,
                        format!("oneway function `{}` declares exceptions", f.name.name),
                    )
                    .with_primary(throws, "a oneway call gets no reply to carry them")
                    .with_secondary(oneway, "declared oneway here")
                    .with_help("remove the `throws` clause, or remove `oneway`"),
                );
            }
        }
        ir::Function {
            name: f.name.name.clone(),
            oneway: f.oneway.is_some(),
            returns,
            args,
            throws,
            doc: f.doc.clone(),
            annotations: annotations(&f.annotations),
            span: f.span,
        }
    }
}
