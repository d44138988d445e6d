//! The Java back end: Java 17 sources on Apache's `org.apache.thrift:libthrift` runtime.
//!
//! # Layout
//!
//! [`generate`] returns one file per type, in the package of its IDL file's `namespace java`
//! (falling back to `namespace *`, then to the default package, as Apache does), at the path
//! that package implies (`thrift/test/Xtruct.java`).
//!
//! # What each definition becomes
//!
//! | IDL | Java |
//! | --- | --- |
//! | `typedef i64 UserId` | nothing: uses spell the target type (`long`) |
//! | `const` | `public static final` fields of `<File>Constants` |
//! | `enum Numberz` | `final class Numberz implements TEnum` with constants; unknown values survive |
//! | `struct` | a class implementing `TBase`, with getters, setters, `isSetX`, a `Builder` |
//! | `exception` | the same, extending `TException` |
//! | `union` | a class implementing `TBase` that holds one field (`getSetField()`) |
//! | `service ThriftTest` | `final class ThriftTest` holding `Iface`, `Client`, `AsyncIface`, `AsyncClient` |
//!
//! Enums are classes rather than Java `enum`s so that a value a newer peer sends survives:
//! `Numberz.findByValue(7)` returns an instance (`isKnown()` is false, `toString()` is
//! `Numberz(7)`) that writes 7 back, where Apache's generated Java returns `null` and loses it.
//!
//! Fields keep presence, like Mosaic's Rust code: every field is either set or unset
//! (`isSetX()`), decoding sets exactly the fields that arrived, and only set fields are
//! written, so a decoded struct re-encodes to the same bytes. A new struct has only the fields
//! with IDL defaults set. Apache's Java instead writes default-requiredness primitives even
//! when unset; peers read an absent field as its zero value, so both interoperate.
//!
//! The synchronous `Client` extends libthrift's `TServiceClient` and so behaves as Apache's
//! does. `AsyncClient` allows many calls in flight on one connection: calls are written under
//! a lock as they come (pipelined), a reader thread completes each call's `CompletableFuture`
//! by the reply's sequence id, and each call may time out on its own.
//!
//! Modules: `ident` (naming and escaping), `out` (indented text), `types` (Java types and
//! wire code), `consts`, `enums`, `structs`, `services`.

mod consts;
mod enums;
pub(crate) mod ident;
mod out;
mod services;
mod structs;
mod types;

use std::path::PathBuf;

use super::GeneratedFile;
use crate::ir::{Definition, FileId, Program, ServiceId, StructId};

use out::Out;

/// What the Java back end generates. There are no options yet; the struct keeps room for them
/// (a package prefix, which clients to generate) without breaking callers.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct JavaOptions {}

/// Everything the generators share for one program.
pub(crate) struct Cx<'a> {
    pub program: &'a Program,
}

/// Generates one Java file per type, constant holder and service of every file in `program`
/// (included ones too). Paths are relative to the output directory; the same program gives the
/// same bytes.
pub fn generate(program: &Program, _options: &JavaOptions) -> Vec<GeneratedFile> {
    let cx = Cx { program };
    let mut files = Vec::new();
    for file in &program.files {
        let mut has_consts = false;
        for def in &file.definitions {
            match *def {
                Definition::Typedef(_) => {}
                Definition::Const(_) => has_consts = true,
                Definition::Enum(e) => {
                    let name = ident::escape(&program.enum_(e).name);
                    files.push(cx.java_file(file.id, &name, |o| cx.enum_class(o, e)));
                }
                Definition::Struct(s) => {
                    let name = ident::escape(&program.struct_(s).name);
                    files.push(cx.java_file(file.id, &name, |o| cx.struct_class(o, s)));
                }
                Definition::Service(s) => {
                    let name = cx.service_class_name(s);
                    files.push(cx.java_file(file.id, &name, |o| cx.service_class(o, s)));
                }
            }
        }
        if has_consts {
            let name = cx.constants_class(file.id);
            files.push(cx.java_file(file.id, &name, |o| cx.constants(o, file.id)));
        }
    }
    files
}

impl Cx<'_> {
    /// The Java package of an IDL file, if any.
    pub(crate) fn package(&self, file: FileId) -> Option<String> {
        self.program.file(file).namespace("java").map(|ns| {
            ns.split('.')
                .map(ident::escape_package_segment)
                .collect::<Vec<_>>()
                .join(".")
        })
    }

    /// The name of the class holding a file's constants (`ThriftTestConstants`).
    pub(crate) fn constants_class(&self, file: FileId) -> String {
        let stem = &self.program.file(file).name;
        let clean: String = stem
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        format!("{clean}Constants")
    }

    /// How code in package `from` names a class `name` declared in `file`: the simple name in
    /// the same package unless a nested generated class could shadow it, else the qualified
    /// name.
    pub(crate) fn class_ref(&self, file: FileId, name: &str, from: Option<&str>) -> String {
        let name = ident::escape(name);
        match self.package(file) {
            None => name,
            Some(pkg) => {
                let shadowed = matches!(
                    name.as_str(),
                    "Builder"
                        | "_Fields"
                        | "Iface"
                        | "AsyncIface"
                        | "Client"
                        | "AsyncClient"
                        | "ReplyReader"
                        | "Pending"
                );
                if Some(pkg.as_str()) == from && !shadowed {
                    name
                } else {
                    format!("{pkg}.{name}")
                }
            }
        }
    }

    /// The class holding a service's interfaces and clients: the [escaped](ident::escape)
    /// service name, with a trailing `_` when a class generated inside it would have the same
    /// name (`Client`, `Iface`, a method's `_args`): Java forbids a nested class named like
    /// the class around it.
    pub(crate) fn service_class_name(&self, id: ServiceId) -> String {
        let svc = self.program.service(id);
        let name = ident::escape(&svc.name);
        let nested = ["Iface", "AsyncIface", "Client", "AsyncClient"].contains(&name.as_str())
            || svc.functions.iter().any(|f| {
                [format!("{}_args", f.name), format!("{}_result", f.name)]
                    .iter()
                    .any(|class| ident::escape(class) == name)
            });
        if nested {
            format!("{name}_")
        } else {
            name
        }
    }

    pub(crate) fn struct_ref(&self, id: StructId, from: Option<&str>) -> String {
        let s = self.program.struct_(id);
        self.class_ref(s.file, &s.name, from)
    }

    fn java_file(&self, file: FileId, class: &str, body: impl FnOnce(&mut Out)) -> GeneratedFile {
        let package = self.package(file);
        let mut o = Out::default();
        o.line(&format!(
            "// This file is @generated by mosaic-codegen from {}. Do not edit.",
            super::source_name(self.program, file)
        ));
        if let Some(pkg) = &package {
            o.blank();
            o.line(&format!("package {pkg};"));
        }
        o.blank();
        body(&mut o);
        let dir: PathBuf = package
            .as_deref()
            .map(|p| p.split('.').collect())
            .unwrap_or_default();
        GeneratedFile {
            path: dir.join(format!("{class}.java")),
            contents: o.finish(),
        }
    }
}

/// Writes a Javadoc comment for `doc` (nothing for `None` or blank text).
pub(crate) fn javadoc(o: &mut Out, doc: Option<&str>) {
    let Some(doc) = doc else { return };
    let lines: Vec<&str> = doc.trim().lines().collect();
    if lines.is_empty() {
        return;
    }
    o.line("/**");
    for line in lines {
        let text = ident::doc_text(line.trim_end());
        if text.is_empty() {
            o.line(" *");
        } else {
            o.line(&format!(" * {text}"));
        }
    }
    o.line(" */");
}
