//! Loading a root file and everything it includes.
//!
//! Each file is parsed once to find its includes, which are loaded first; only then does the
//! file get its [`FileId`] and its real parse. So ids are in dependency order (includes before
//! the files that include them), as [`crate::ir::Program::files`] promises.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::loader::SourceLoader;
use super::LoadOptions;
use crate::diag::{codes, Diagnostic, SourceMap};
use crate::span::{FileId, Span};
use crate::syntax::{self, ast};

/// Every loaded file, parsed.
pub(super) struct Loaded {
    pub sources: SourceMap,
    /// Indexed by [`FileId`].
    pub docs: Vec<ast::Document>,
    /// Per file: the files its `include`s resolved to, in order, with the stem other files
    /// write before a dot (`shared` for `shared.thrift`).
    pub includes: Vec<Vec<(FileId, String)>>,
    pub roots: Vec<FileId>,
    pub diags: Vec<Diagnostic>,
}

struct Loader<'a> {
    loader: &'a dyn SourceLoader,
    options: &'a LoadOptions,
    out: Loaded,
    by_identity: BTreeMap<PathBuf, FileId>,
    /// Files being loaded: identity and display path.
    stack: Vec<(PathBuf, PathBuf)>,
}

/// A problem in a file that has no id yet: its byte range is remembered until it gets one.
struct Pending {
    diag: Diagnostic,
    start: u32,
    end: u32,
}

pub(super) fn load_all(
    loader: &dyn SourceLoader,
    roots: &[PathBuf],
    options: &LoadOptions,
) -> Loaded {
    let mut l = Loader {
        loader,
        options,
        out: Loaded {
            sources: SourceMap::new(),
            docs: Vec::new(),
            includes: Vec::new(),
            roots: Vec::new(),
            diags: Vec::new(),
        },
        by_identity: BTreeMap::new(),
        stack: Vec::new(),
    };
    for root in roots {
        match loader.identify(root) {
            Some(identity) => {
                if let Some(id) = l.visit(identity, root.clone()) {
                    if !l.out.roots.contains(&id) {
                        l.out.roots.push(id);
                    }
                }
            }
            None => l.out.diags.push(
                Diagnostic::error(
                    codes::CANNOT_READ,
                    format!("cannot find `{}`", root.display()),
                )
                .with_note("no such file"),
            ),
        }
    }
    l.out
}

/// The name other files use for a file's definitions: its file name without `.thrift`.
pub(super) fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.rfind('.') {
        Some(i) if i > 0 => name[..i].to_string(),
        _ => name,
    }
}

impl Loader<'_> {
    fn visit(&mut self, identity: PathBuf, display: PathBuf) -> Option<FileId> {
        if let Some(&id) = self.by_identity.get(&identity) {
            return Some(id);
        }
        let bytes = match self.loader.read(&display) {
            Ok(b) => b,
            Err(e) => {
                self.out.diags.push(
                    Diagnostic::error(
                        codes::CANNOT_READ,
                        format!("cannot read `{}`", display.display()),
                    )
                    .with_note(e.to_string()),
                );
                return None;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to() as u32;
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let id = self.add_file(identity, display.clone(), text, empty_doc);
                self.out.diags.push(
                    Diagnostic::error(
                        codes::NOT_UTF8,
                        format!("`{}` is not valid UTF-8", display.display()),
                    )
                    .with_primary(Span::new(id, at, at + 1), "invalid byte here")
                    .with_help("save the file as UTF-8"),
                );
                return Some(id);
            }
        };

        // First parse: only the includes matter; the real parse follows once the id is known.
        let (draft, _) = syntax::parse(FileId(u32::MAX), &text);
        self.stack.push((identity.clone(), display.clone()));
        let mut pending = Vec::new();
        let mut includes: Vec<(FileId, String)> = Vec::new();
        for h in &draft.headers {
            let ast::Header::Include(inc) = h else {
                continue;
            };
            if let Some(found) = self.include(&display, inc, &mut pending) {
                if !includes.iter().any(|(id, _)| *id == found.0) {
                    includes.push(found);
                }
            }
        }
        self.stack.pop();

        let id = self.add_file(identity, display, text, |id, text| {
            let (doc, diags) = syntax::parse(id, text);
            (doc, diags)
        });
        self.out.includes[id.index()] = includes;
        for p in pending {
            let mut d = p.diag;
            let span = Span::new(id, p.start, p.end);
            d.primary = Some(crate::diag::Label {
                span,
                message: d.primary.map(|l| l.message).unwrap_or_default(),
            });
            self.out.diags.push(d);
        }
        Some(id)
    }

    fn add_file(
        &mut self,
        identity: PathBuf,
        display: PathBuf,
        text: String,
        parse: impl FnOnce(FileId, &str) -> (ast::Document, Vec<Diagnostic>),
    ) -> FileId {
        let id = self.out.sources.next_id();
        let (doc, mut diags) = parse(id, &text);
        let added = self.out.sources.add(display, text);
        debug_assert_eq!(added, id, "source ids are handed out in order");
        self.out.docs.push(doc);
        self.out.includes.push(Vec::new());
        self.out.diags.append(&mut diags);
        self.by_identity.insert(identity, id);
        id
    }

    /// Resolves one `include`: beside the including file first, then in each include dir.
    fn include(
        &mut self,
        from: &Path,
        inc: &ast::Include,
        pending: &mut Vec<Pending>,
    ) -> Option<(FileId, String)> {
        let name = Path::new(&inc.path.value);
        let mut candidates = Vec::new();
        if name.is_absolute() {
            candidates.push(name.to_path_buf());
        } else {
            let dir = from.parent().unwrap_or(Path::new(""));
            candidates.push(dir.join(name));
            candidates.extend(self.options.include_dirs.iter().map(|d| d.join(name)));
        }
        let span = (inc.path.span.start, inc.path.span.end);
        let found = candidates
            .iter()
            .find_map(|c| self.loader.identify(c).map(|id| (id, c.clone())));
        let Some((identity, display)) = found else {
            let searched: Vec<String> = candidates
                .iter()
                .map(|c| format!("`{}`", c.display()))
                .collect();
            pending.push(Pending {
                diag: Diagnostic::error(
                    codes::INCLUDE_NOT_FOUND,
                    format!("cannot find included file `{}`", inc.path.value),
                )
                .with_primary(Span::default(), "not found")
                .with_note(format!("looked for {}", searched.join(", ")))
                .with_help("fix the path, or add the directory that holds it to the include dirs"),
                start: span.0,
                end: span.1,
            });
            return None;
        };
        if let Some(pos) = self.stack.iter().position(|(i, _)| *i == identity) {
            let mut chain: Vec<String> = self.stack[pos..]
                .iter()
                .map(|(_, d)| format!("`{}`", d.display()))
                .collect();
            chain.push(format!("`{}`", display.display()));
            pending.push(Pending {
                diag: Diagnostic::error(
                    codes::INCLUDE_CYCLE,
                    format!("include cycle through `{}`", display.display()),
                )
                .with_primary(Span::default(), "this include closes a cycle")
                .with_note(format!("the cycle: {}", chain.join(" includes "))),
                start: span.0,
                end: span.1,
            });
            return None;
        }
        let id = self.visit(identity, display.clone())?;
        Some((id, stem(&display)))
    }
}

fn empty_doc(id: FileId, _text: &str) -> (ast::Document, Vec<Diagnostic>) {
    (
        ast::Document {
            file: id,
            doc: None,
            headers: Vec::new(),
            definitions: Vec::new(),
        },
        Vec::new(),
    )
}
