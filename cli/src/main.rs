//! `mosaic`: Mosaic's command-line tool.
//!
//! - `mosaic gen --lang rust --out DIR FILE...` generates code from Thrift IDL (every included
//!   file too, like Apache's `-r`); `--check` compares instead of writing.
//! - `mosaic check FILE...` reports what is wrong with IDL files, without generating.
//! - `mosaic serve image --port N [--registry ADDR]` runs the image service, registered with a
//!   registry if given one.
//! - `mosaic registry --port N` runs the registry (in memory, or on etcd).
//! - `mosaic up` runs a registry and the services, registered, in one process.
//! - `mosaic ls --registry ADDR` lists services, instances and their health.

mod gen;
mod ls;
mod process;
mod registry;
mod serve;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Image buffers are megabytes each, allocated and freed per request: mimalloc keeps them in
/// the process, where glibc's malloc returns them to the kernel and takes page faults to
/// reuse them (about a fifth of a 12 MP JPEG thumbnail's time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Run the registry: service discovery for Mosaic's servers and clients.
    Registry(registry::RegistryArgs),
    /// Run a registry and the services, registered with it, in one process.
    Up(up::UpArgs),
    /// List the services a registry knows, their instances and their health.
    Ls(ls::LsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Gen(args) => gen::run(args),
        Command::Check(args) => gen::check(args),
        Command::Serve(args) => serve::run(args),
        Command::Registry(args) => registry::run(args),
        Command::Up(args) => up::run(args),
        Command::Ls(args) => ls::run(args),
    }
}
