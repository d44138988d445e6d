//! The Python back end: packages that replace `thrift --gen py` output, with type hints.
//!
//! # Layout
//!
//! [`generate`] returns, for every IDL file, one package named by its `namespace py` (or its
//! `*` namespace, else the file stem), laid out as Apache's generator lays it out:
//!
//! ```text
//! ThriftTest/__init__.py      __all__ = ["ttypes", "constants", "ThriftTest", ...]
//! ThriftTest/ttypes.py        enums, structs, unions, exceptions
//! ThriftTest/constants.py     constants
//! ThriftTest/ThriftTest.py    per service: Iface, Client, Processor (and the *_args/*_result)
//! ThriftTest/py.typed         the package is typed (PEP 561)
//! ```
//!
//! Parent packages of a dotted namespace get an empty `__init__.py`. Included files are
//! imported by their absolute package (`import shared.ttypes`), as Apache does, so the output
//! directory goes on `sys.path`.
//!
//! # What each definition becomes
//!
//! | IDL | Python |
//! | --- | --- |
//! | `enum Numberz` | `class Numberz(enum.IntEnum)`; any other `int` becomes a pseudo-member (`Numberz(7)`), so unknown values survive a round trip |
//! | `struct`, `union` | a class with type-hinted attributes, a keyword constructor with the IDL defaults, `read`/`write`, `validate`, `__eq__`, `__repr__` |
//! | `exception` | the same, subclassing `thrift.Thrift.TException`, immutable and hashable as in Apache |
//! | `const` | a module-level name in `constants.py` |
//! | `service` | `Iface`, `Client` and `Processor` in the service's module |
//! | `typedef` | nothing: hints use the aliased type |
//!
//! Every struct has Apache's `thrift_spec` table (fixed up with `thrift.TRecursive.fix_spec`),
//! so Apache's C-accelerated protocols encode and decode Mosaic's classes. Structs annotated
//! `python.immutable` (and exceptions) are frozen and hashable, and read with a classmethod,
//! as Apache does. Containers are frozen where values must be hashable (see `types`).
//!
//! Differences from Apache's output: type hints everywhere (`mypy --strict` passes), enums are
//! `IntEnum`s, keywords are escaped (`from` → `from_`; builtins too, at module level) instead
//! of refused, `uuid` is `uuid.UUID`, and a constructor argument whose IDL default is a
//! container or struct gets a fresh copy of it per instance (Apache shares one).
//!
//! The output needs Python 3.10 or later (`typing.TypeAlias`, `X | None` in aliases) and
//! Apache's `thrift` package (`uuid` fields need one with `readUuid`/`writeUuid`, as PyPI's
//! 0.25 has).
//!
//! The modules: `ident` (naming and escaping), `text` (formatted printing), `types` (hints,
//! `TType`s, spec tables), `consts` (constant values), `structs`, `enums`, `services`.

mod consts;
mod enums;
pub(crate) mod ident;
mod services;
mod structs;
mod text;
mod types;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::GeneratedFile;
use crate::ir::{Definition, EnumId, FileId, Program, ServiceId, StructId};

use text::Out;

/// What the Python back end generates.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PythonOptions {
    /// A prefix for the imports between generated packages (`mosaic_rpc._gen.` makes them
    /// `import mosaic_rpc._gen.shared.ttypes`), for packages generated inside another
    /// package, like Apache's `package_prefix`. The layout under the output directory stays
    /// the same. Default: none.
    pub package_prefix: String,
}

/// Generates one package per IDL file in `program` (included files too). Paths are relative
/// to the output directory; the same program gives the same bytes.
pub fn generate(program: &Program, options: &PythonOptions) -> Vec<GeneratedFile> {
    let prefix = options.package_prefix.as_str();
    let mut files = Vec::new();
    let mut parents = BTreeSet::new();
    for file in &program.files {
        let cx = Cx::new(program, file.id, prefix);
        let package = cx.package(file.id);
        let dir: PathBuf = package.split('.').collect();
        let parts: Vec<&str> = package.split('.').collect();
        for n in 1..parts.len() {
            parents.insert(parts[..n].iter().collect::<PathBuf>());
        }
        let mut modules = vec!["ttypes".to_string(), "constants".to_string()];
        for def in &file.definitions {
            if let Definition::Service(s) = def {
                let name = cx.service_name(*s);
                files.push(GeneratedFile {
                    path: dir.join(format!("{name}.py")),
                    contents: Cx::new(program, file.id, prefix).service_module(*s),
                });
                modules.push(name);
            }
        }
        files.push(GeneratedFile {
            path: dir.join("__init__.py"),
            contents: init_module(program, file.id, &modules),
        });
        files.push(GeneratedFile {
            path: dir.join("ttypes.py"),
            contents: Cx::new(program, file.id, prefix).types_module(),
        });
        files.push(GeneratedFile {
            path: dir.join("constants.py"),
            contents: Cx::new(program, file.id, prefix).constants_module(),
        });
        files.push(GeneratedFile {
            path: dir.join("py.typed"),
            contents: String::new(),
        });
    }
    let packages: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| f.path.parent().map(PathBuf::from))
        .collect();
    for parent in parents {
        if !packages.contains(&parent) {
            files.push(GeneratedFile {
                path: parent.join("__init__.py"),
                contents: format!("{}\n", header_line(None)),
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    files
}

/// The second line of every generated module: mypy settings for this file only.
const MYPY_CONFIG: &str = "# mypy: allow-subclassing-any, disable-error-code=\"import-untyped\"";

/// The first line of every generated file.
fn header_line(source: Option<&str>) -> String {
    match source {
        Some(source) => {
            format!("# This file is @generated by mosaic-codegen from {source}. Do not edit.")
        }
        None => "# This file is @generated by mosaic-codegen. Do not edit.".to_string(),
    }
}

fn init_module(program: &Program, file: FileId, modules: &[String]) -> String {
    let mut out = Out::default();
    out.line(0, &header_line(Some(&super::source_name(program, file))));
    if let Some(doc) = program.file(file).doc.as_deref() {
        out.docstring(0, doc);
    }
    out.blank();
    let items = modules
        .iter()
        .map(|m| text::Expr::atom(text::string_literal(m)))
        .collect();
    out.expr(0, "__all__ = ", &text::Expr::brackets("[", items, "]"), "");
    out.finish()
}

/// Everything the generators share while writing one module.
pub(crate) struct Cx<'a> {
    pub program: &'a Program,
    /// The IDL file whose package is being written.
    pub file: FileId,
    /// [`PythonOptions::package_prefix`].
    pub prefix: &'a str,
    /// Other files whose `ttypes` module this module refers to.
    pub imports: RefCell<BTreeSet<FileId>>,
    /// Further `import` lines (base services in other modules).
    pub extra_imports: RefCell<BTreeSet<String>>,
    /// Type aliases for long hints and for shadowed names (name → hint).
    pub aliases: RefCell<BTreeMap<String, String>>,
    /// A counter for temporaries in readers and writers.
    pub temps: RefCell<usize>,
}

impl<'a> Cx<'a> {
    fn new(program: &'a Program, file: FileId, prefix: &'a str) -> Self {
        Cx {
            program,
            file,
            prefix,
            imports: RefCell::new(BTreeSet::new()),
            extra_imports: RefCell::new(BTreeSet::new()),
            aliases: RefCell::new(BTreeMap::new()),
            temps: RefCell::new(0),
        }
    }

    /// The dotted package of a file as other packages import it (with the prefix).
    pub(crate) fn import_path(&self, file: FileId) -> String {
        format!("{}{}", self.prefix, self.package(file))
    }

    /// The dotted package of a file: its `namespace py` (or `*`), else its stem; the
    /// directories under the output directory.
    pub(crate) fn package(&self, file: FileId) -> String {
        let f = self.program.file(file);
        let name = f.namespace("py").unwrap_or(&f.name);
        name.split('.')
            .map(ident::keyword)
            .collect::<Vec<_>>()
            .join(".")
    }

    pub(crate) fn struct_name(&self, id: StructId) -> String {
        ident::global(&self.program.struct_(id).name)
    }

    pub(crate) fn enum_name(&self, id: EnumId) -> String {
        ident::global(&self.program.enum_(id).name)
    }

    pub(crate) fn service_name(&self, id: ServiceId) -> String {
        ident::global(&self.program.service(id).name)
    }

    /// A name defined in `file`'s `ttypes`, as this module spells it.
    pub(crate) fn type_ref(&self, file: FileId, name: &str) -> String {
        if file == self.file {
            name.to_string()
        } else {
            self.imports.borrow_mut().insert(file);
            format!("{}.ttypes.{name}", self.import_path(file))
        }
    }

    /// `hint`, or for a long one a module-level type alias (`_Hint1`, a string, so that
    /// nothing is evaluated at import time); the same hint gets the same alias.
    ///
    /// A hint is long when it and `beside` (the field's, parameter's or method's name,
    /// which share its line) take more than 58 characters: then the field, parameter and
    /// method lines that carry it still fit in 88 columns.
    pub(crate) fn short_hint(&self, beside: &str, hint: String) -> String {
        if beside.len() + hint.len() <= 58 {
            return hint;
        }
        let mut aliases = self.aliases.borrow_mut();
        if let Some((name, _)) = aliases.iter().find(|(_, h)| **h == hint) {
            return name.clone();
        }
        let n = aliases.keys().filter(|k| k.starts_with("_Hint")).count() + 1;
        let alias = format!("_Hint{n}");
        aliases.insert(alias.clone(), hint);
        alias
    }

    /// `hint` as written inside a class whose own names are `shadow`: a name there would
    /// mean the class attribute, not the type, so such references go through a module-level
    /// alias (`_list_type: TypeAlias = "list"`).
    pub(crate) fn unshadow(&self, hint: &str, shadow: &BTreeSet<String>) -> String {
        let mut result = String::new();
        let mut word = String::new();
        let flush = |word: &mut String, result: &mut String| {
            if word.is_empty() {
                return;
            }
            let root = word.split('.').next().unwrap_or("");
            if !root.is_empty() && shadow.contains(root) {
                let alias = format!("_{}_type", word.replace('.', "_"));
                self.aliases
                    .borrow_mut()
                    .insert(alias.clone(), word.clone());
                result.push_str(&alias);
            } else {
                result.push_str(word);
            }
            word.clear();
        };
        for c in hint.chars() {
            if c.is_alphanumeric() || c == '_' || (c == '.' && !word.is_empty()) {
                word.push(c);
            } else {
                flush(&mut word, &mut result);
                result.push(c);
            }
        }
        flush(&mut word, &mut result);
        result
    }

    /// A fresh temporary name: `_{stem}{n}`.
    pub(crate) fn temp(&self, stem: &str) -> String {
        let mut n = self.temps.borrow_mut();
        let name = format!("_{stem}{n}");
        *n += 1;
        name
    }

    /// The header, docstring and imports of a module, then `body`. `imports` are written
    /// first (empty strings separate groups), then those of included files, then relative
    /// ones (`from .ttypes import *`).
    pub(crate) fn module(&self, doc: Option<&str>, imports: &[&str], body: &str) -> String {
        let mut out = Out::default();
        out.line(
            0,
            &header_line(Some(&super::source_name(self.program, self.file))),
        );
        // Apache's runtime has no type information; its exception and processor classes
        // are base classes here.
        out.line(0, MYPY_CONFIG);
        if let Some(doc) = doc {
            out.docstring(0, doc);
        }
        out.blank();
        out.line(0, "from __future__ import annotations");
        out.blank();
        let (local, outside): (Vec<&str>, Vec<&str>) =
            imports.iter().partition(|l| l.starts_with("from ."));
        for line in outside {
            if line.is_empty() {
                out.blank();
            } else {
                out.line(0, line);
            }
        }
        let mut extra: Vec<String> = self
            .imports
            .borrow()
            .iter()
            .map(|f| format!("import {}.ttypes", self.import_path(*f)))
            .collect();
        extra.extend(self.extra_imports.borrow().iter().cloned());
        extra.sort();
        extra.dedup();
        if !extra.is_empty() {
            out.blank();
            for line in extra {
                out.line(0, &line);
            }
        }
        if !local.is_empty() {
            out.blank();
            for line in local {
                out.line(0, line);
            }
        }
        if body.contains("_UNSET") {
            out.blank();
            out.blank();
            out.line(0, "_UNSET: Any = object()");
            out.docstring(
                0,
                "The default of arguments whose IDL default is built per instance.",
            );
        }
        let aliases = self.aliases.borrow();
        if !aliases.is_empty() {
            out.blank();
            out.blank();
            for (name, hint) in aliases.iter() {
                let value = text::Expr::atom(text::string_literal(hint));
                out.expr(0, &format!("{name}: TypeAlias = "), &value, "");
            }
        }
        let mut text = out.finish();
        text.push_str(body);
        text
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::resolve::{load, LoadOptions};

    fn tricky(options: &PythonOptions) -> Vec<GeneratedFile> {
        let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/tricky");
        let roots = [case.join("keywords.thrift"), case.join("shapes.thrift")];
        let load_options = LoadOptions {
            include_dirs: vec![case.clone()],
        };
        let loaded = load(&roots, &load_options).expect("the tricky IDL resolves");
        generate(&loaded.program, options)
    }

    fn file<'f>(files: &'f [GeneratedFile], path: &str) -> &'f str {
        let found = files.iter().find(|f| f.path == Path::new(path));
        &found
            .unwrap_or_else(|| panic!("{path} is generated"))
            .contents
    }

    #[test]
    fn package_prefix_changes_imports_not_the_layout() {
        let prefixed = tricky(&PythonOptions {
            package_prefix: "sdk._gen.".to_string(),
        });
        let plain = tricky(&PythonOptions::default());
        let paths =
            |files: &[GeneratedFile]| files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
        assert_eq!(
            paths(&prefixed),
            paths(&plain),
            "the same files in the same places"
        );
        let service = file(&prefixed, "keywords/print_.py");
        assert!(
            service.contains("\nimport sdk._gen.tricky.base.common.Base\n"),
            "the base service is imported with the prefix:\n{service}"
        );
        assert!(
            service.contains("class Iface(sdk._gen.tricky.base.common.Base.Iface):"),
            "the base Iface is named with the prefix"
        );
        let types = file(&prefixed, "keywords/ttypes.py");
        assert!(
            types.contains("\nimport sdk._gen.tricky.base.common.ttypes\n"),
            "included types are imported with the prefix:\n{types}"
        );
        assert!(
            !file(&plain, "keywords/ttypes.py").contains("sdk._gen"),
            "no prefix by default"
        );
    }
}
