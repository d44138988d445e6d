//! `mosaic-server`: Mosaic's service implementations, as a library.
//!
//! The CLI (`mosaic serve image`), the tests and users' own processes embed the same
//! handlers. Each handler implements a generated service trait from `idl/`; serve it with
//! the generated `*Service` wrapper on a `mosaic_runtime::Server`.

/// The generated code for `idl/` (types, service traits, dispatchers and clients).
pub mod idl {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/mosaic.rs"));
}

mod error;
pub mod image;
mod status;

pub use error::ServiceError;
