//! `mosaic`: Mosaic's command-line tool.
//!
//! - `mosaic gen --lang rust --out DIR FILE...` generates code from Thrift IDL (every included
//!   file too, like Apache's `-r`); `--check` compares instead of writing.
//! - `mosaic check FILE...` reports what is wrong with IDL files, without generating.
//! - `mosaic serve image --port N` runs the image service.

mod gen;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "mosaic",
    version,
    about = "Mosaic: Thrift RPC for image, ML and media services"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate code from Thrift IDL files (and every file they include).
    Gen(gen::GenArgs),
    /// Check Thrift IDL files and report problems, without generating anything.
    Check(gen::CheckArgs),
    /// Run one of Mosaic's services.
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Gen(args) => gen::run(args),
        Command::Check(args) => gen::check(args),
        Command::Serve(args) => serve::run(args),
    }
}
