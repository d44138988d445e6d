//! Whole-program checks: namespace scopes, typedef and `extends` cycles, functions that
//! redefine inherited ones, and structs that can never be built.

use std::collections::BTreeSet;

use super::lower::Resolver;
use crate::diag::{codes, Diagnostic};
use crate::ir::{Requiredness, ServiceId, StructId, StructKind, Type, TypedefId};
use crate::syntax::ast;

/// The generators of Apache Thrift's compiler: a namespace scope naming none of them is
/// unused, which Apache warns about.
const GENERATORS: &[&str] = &[
    "c_glib", "cl", "cpp", "d", "dart", "delphi", "erl", "go", "gv", "haxe", "html", "java",
    "javame", "js", "json", "kotlin", "lua", "markdown", "mmd", "netstd", "ocaml", "perl", "php",
    "py", "rb", "rs", "st", "swift", "xml", "xsd",
];

/// The sub-scopes Apache's generators accept (`namespace php.path ...`).
const SUB_SCOPES: &[(&str, &[&str])] = &[
    ("php", &["path"]),
    ("st", &["prefix", "category"]),
    ("smalltalk", &["prefix", "category"]),
];

impl Resolver {
    pub(super) fn check_namespaces(&mut self, docs: &[ast::Document]) {
        for doc in docs {
            for h in &doc.headers {
                let ast::Header::Namespace(ns) = h else {
                    continue;
                };
                let scope = ns.scope.name.as_str();
                if scope == "*" {
                    continue;
                }
                let (base, sub) = match scope.split_once('.') {
                    Some((b, s)) => (b, Some(s)),
                    None => (scope, None),
                };
                let known = GENERATORS.contains(&base) || base == "smalltalk";
                if !known {
                    self.diags.push(
                        Diagnostic::warning(
                            codes::UNKNOWN_NAMESPACE,
                            format!("unknown namespace scope `{base}`"),
                        )
                        .with_primary(ns.scope.span, "no generator has this name")
                        .with_note("the namespace is kept, but no generator reads it"),
                    );
                } else if let Some(sub) = sub {
                    let ok = SUB_SCOPES
                        .iter()
                        .any(|(b, subs)| *b == base && subs.contains(&sub));
                    if !ok {
                        self.diags.push(
                            Diagnostic::warning(
                                codes::UNKNOWN_NAMESPACE,
                                format!("the `{base}` generator has no sub-scope `{sub}`"),
                            )
                            .with_primary(ns.scope.span, "unknown sub-scope")
                            .with_note("the namespace is kept, but no generator reads it"),
                        );
                    }
                }
            }
        }
    }

    /// Typedefs whose targets lead back to themselves (directly, through other typedefs or
    /// through containers) have no meaning. Each cycle is reported once and then cut, so later
    /// stages can follow typedef chains safely.
    pub(super) fn check_typedef_cycles(&mut self, docs: &[ast::Document]) {
        let n = self.program.typedefs.len();
        let mut reported: BTreeSet<TypedefId> = BTreeSet::new();
        for i in 0..n {
            let id = TypedefId(i as u32);
            let mut path = Vec::new();
            if !self.typedef_reaches(id, &self.program.typedefs[i].target, &mut path) {
                continue;
            }
            if path.iter().any(|p| reported.contains(p)) {
                self.program.typedefs[i].target = Type::I32;
                continue;
            }
            reported.extend(path.iter().copied());
            let td = &self.program.typedefs[i];
            let names: Vec<String> = std::iter::once(id)
                .chain(path.iter().copied())
                .map(|p| format!("`{}`", self.program.typedef(p).name))
                .collect();
            let mut d = Diagnostic::error(
                codes::TYPEDEF_CYCLE,
                format!("typedef `{}` refers to itself", td.name),
            )
            .with_primary(
                Self::name_span(docs, self.typedef_origin[i]),
                "this typedef never reaches a real type",
            );
            if path.len() > 1 {
                d = d.with_note(format!("the cycle: {}", names.join(" -> ")));
            }
            d = d.with_help("a type can refer to itself only through a struct field");
            self.diags.push(d);
            self.program.typedefs[i].target = Type::I32;
        }
    }

    /// True when `ty` leads to `goal` without passing through a struct; `path` gets the
    /// typedefs on the way.
    fn typedef_reaches(&self, goal: TypedefId, ty: &Type, path: &mut Vec<TypedefId>) -> bool {
        match ty {
            Type::Typedef(t) => {
                if *t == goal {
                    path.push(*t);
                    return true;
                }
                if path.contains(t) || path.len() > self.program.typedefs.len() {
                    return false;
                }
                path.push(*t);
                if self.typedef_reaches(goal, &self.program.typedef(*t).target, path) {
                    return true;
                }
                path.pop();
                false
            }
            Type::List(e) | Type::Set(e) => self.typedef_reaches(goal, e, path),
            Type::Map(k, v) => {
                self.typedef_reaches(goal, k, path) || self.typedef_reaches(goal, v, path)
            }
            _ => false,
        }
    }

    /// Services that extend each other: reported once per cycle, which is then cut.
    pub(super) fn check_extends_cycles(&mut self, docs: &[ast::Document]) {
        let mut reported: BTreeSet<ServiceId> = BTreeSet::new();
        for i in 0..self.program.services.len() {
            let start = ServiceId(i as u32);
            let mut chain = vec![start];
            let mut next = self.program.service(start).extends;
            let mut cycle = false;
            while let Some(s) = next {
                if s == start {
                    cycle = true;
                    break;
                }
                if chain.contains(&s) {
                    break; // a cycle further up; reported from one of its members
                }
                chain.push(s);
                next = self.program.service(s).extends;
            }
            if !cycle {
                continue;
            }
            if chain.iter().any(|s| reported.contains(s)) {
                continue;
            }
            reported.extend(chain.iter().copied());
            let svc = self.program.service(start);
            let mut names: Vec<String> = chain
                .iter()
                .map(|s| format!("`{}`", self.program.service(*s).name))
                .collect();
            names.push(format!("`{}`", svc.name));
            self.diags.push(
                Diagnostic::error(
                    codes::EXTENDS_CYCLE,
                    format!("service `{}` extends itself", svc.name),
                )
                .with_primary(
                    Self::name_span(docs, self.service_origin[i]),
                    "part of an `extends` cycle",
                )
                .with_note(format!("the cycle: {}", names.join(" extends "))),
            );
            self.program.services[i].extends = None;
        }
    }

    /// A function may not redefine one its service inherits (Apache's rule).
    pub(super) fn check_inherited_functions(&mut self) {
        for i in 0..self.program.services.len() {
            let svc = &self.program.services[i];
            let Some(base) = svc.extends else { continue };
            let inherited = self.program.all_functions(base);
            let mut found = Vec::new();
            for f in &svc.functions {
                if let Some((owner, g)) = inherited.iter().find(|(_, g)| g.name == f.name) {
                    found.push(
                        Diagnostic::error(
                            codes::DUPLICATE_FUNCTION,
                            format!(
                                "function `{}` is already defined in base service `{}`",
                                f.name,
                                self.program.service(*owner).name
                            ),
                        )
                        .with_primary(f.span, "redefined here")
                        .with_secondary(g.span, "inherited from here")
                        .with_note("Thrift has no overriding: every function name in a service and its bases must be unique"),
                    );
                }
            }
            self.diags.extend(found);
        }
    }

    /// A struct whose required fields lead back to it can never be built: it would have to
    /// contain itself. Recursion through optional or default fields, containers and unions is
    /// fine (Apache's test/Recursive.thrift).
    pub(super) fn check_required_cycles(&mut self, docs: &[ast::Document]) {
        let mut reported: BTreeSet<StructId> = BTreeSet::new();
        for i in 0..self.program.structs.len() {
            let start = StructId(i as u32);
            let mut path: Vec<(StructId, usize)> = Vec::new();
            if !self.required_reaches(start, start, &mut path, &mut BTreeSet::new()) {
                continue;
            }
            if path.iter().any(|(s, _)| reported.contains(s)) {
                continue;
            }
            reported.extend(path.iter().map(|(s, _)| *s));
            let s = self.program.struct_(start);
            let mut d = Diagnostic::error(
                codes::REQUIRED_CYCLE,
                format!(
                    "`{}` can never be built: its required fields contain itself",
                    s.name
                ),
            )
            .with_primary(
                Self::name_span(docs, self.struct_origin[i]),
                "recursive without an end",
            );
            for (owner, field) in &path {
                let f = &self.program.struct_(*owner).fields[*field];
                d = d.with_secondary(f.span, format!("required `{}`", f.name));
            }
            d = d.with_help("make one of these fields optional");
            self.diags.push(d);
        }
    }

    fn required_reaches(
        &self,
        goal: StructId,
        at: StructId,
        path: &mut Vec<(StructId, usize)>,
        seen: &mut BTreeSet<StructId>,
    ) -> bool {
        let s = self.program.struct_(at);
        if s.kind == StructKind::Union || !seen.insert(at) {
            return false;
        }
        for (i, f) in s.fields.iter().enumerate() {
            if f.requiredness != Requiredness::Required {
                continue;
            }
            let Type::Struct(next) = self.program.true_type(&f.ty) else {
                continue;
            };
            path.push((at, i));
            if *next == goal || self.required_reaches(goal, *next, path, seen) {
                return true;
            }
            path.pop();
        }
        false
    }
}
