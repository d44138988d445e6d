//! `mosaic gen` and `mosaic check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use mosaic_codegen::resolve::{self, LoadOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Rust,
    /// Packages for Apache's Python runtime, in the layout of `thrift --gen py`.
    Python,
    /// Java 17 classes on Apache's libthrift.
    Java,
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// The language to generate.
    #[arg(long, value_enum)]
    lang: Lang,
    /// The directory to write into (created if missing).
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// A directory to search for included files, after the including file's own directory.
    #[arg(long = "include", short = 'I', value_name = "DIR")]
    include_dirs: Vec<PathBuf>,
    /// Compare the generated files with those in DIR instead of writing; fail if they differ.
    #[arg(long)]
    check: bool,
    /// Python: a prefix for imports between generated packages (`sdk._gen.`), for packages
    /// generated inside another package; the layout under DIR stays the same.
    #[arg(long, value_name = "PREFIX", default_value = "")]
    package_prefix: String,
    /// The IDL files to compile.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A directory to search for included files, after the including file's own directory.
    #[arg(long = "include", short = 'I', value_name = "DIR")]
    include_dirs: Vec<PathBuf>,
    /// The IDL files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn load(files: &[PathBuf], include_dirs: &[PathBuf]) -> Option<resolve::Loaded> {
    let options = LoadOptions {
        include_dirs: include_dirs.to_vec(),
    };
    match resolve::load(files, &options) {
        Ok(loaded) => {
            if !loaded.warnings.is_empty() {
                eprint!("{}", loaded.render_warnings());
            }
            Some(loaded)
        }
        Err(failed) => {
            eprint!("{}", failed.render());
            None
        }
    }
}

pub fn check(args: CheckArgs) -> ExitCode {
    match load(&args.files, &args.include_dirs) {
        Some(_) => ExitCode::SUCCESS,
        None => ExitCode::FAILURE,
    }
}

pub fn run(args: GenArgs) -> ExitCode {
    let Some(loaded) = load(&args.files, &args.include_dirs) else {
        return ExitCode::FAILURE;
    };
    let files = match args.lang {
        Lang::Rust => mosaic_codegen::backend::rust::generate(
            &loaded.program,
            &mosaic_codegen::backend::rust::RustOptions::default(),
        ),
        Lang::Python => {
            let mut options = mosaic_codegen::backend::python::PythonOptions::default();
            options.package_prefix = args.package_prefix.clone();
            mosaic_codegen::backend::python::generate(&loaded.program, &options)
        }
        Lang::Java => mosaic_codegen::backend::java::generate(
            &loaded.program,
            &mosaic_codegen::backend::java::JavaOptions::default(),
        ),
    };
    if args.check {
        let stale: Vec<_> = files
            .iter()
            .filter(|f| {
                std::fs::read(args.out.join(&f.path)).ok().as_deref() != Some(f.contents.as_bytes())
            })
            .collect();
        if stale.is_empty() {
            return ExitCode::SUCCESS;
        }
        for f in stale {
            eprintln!(
                "mosaic gen --check: {} is missing or differs from what {} generate",
                args.out.join(&f.path).display(),
                describe(&args.files)
            );
        }
        return ExitCode::FAILURE;
    }
    for f in &files {
        // Unchanged files are left alone, so build tools watching DIR see no change.
        if let Err(e) = f.write_to(&args.out) {
            eprintln!(
                "mosaic gen: cannot write {}: {e}",
                args.out.join(&f.path).display()
            );
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn describe(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
