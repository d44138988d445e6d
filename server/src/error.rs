//! One error type for every service method, mapped onto each method's declared exceptions.
//!
//! Handlers work with [`ServiceError`]; the `From` impls turn it into the generated
//! per-method error enums, so a failure always reaches the client as the declared exception
//! that describes it (never a bare application exception when the contract has a better one).

use std::fmt;

use crate::idl::common::{InvalidArgument, Overloaded, TooLarge, Unsupported};
use crate::idl::image::{
    ErrorKind, FeaturesError, HistogramError, InfoError, InvalidImage, ItemError, SegmentError,
    StatsError, TransformBatchError, TransformError,
};

/// Why a request failed, in the contract's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceError {
    /// The image could not be decoded (corrupt, truncated, raw pixels of the wrong size).
    InvalidImage(String),
    /// A format or operation this server does not support; `what` names it.
    Unsupported { what: String, message: String },
    /// An argument out of range; `field` is its path in the request (`ops[2].resize.width`).
    InvalidArgument { field: String, message: String },
    /// Over the per-request budget.
    TooLarge {
        what: String,
        limit: i64,
        requested: i64,
    },
    /// The server is at capacity and did not start the work.
    Overloaded(String),
    /// A bug or an unexpected failure inside the server.
    Internal(String),
}

impl ServiceError {
    pub fn invalid_argument(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unsupported(what: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Unsupported {
            what: what.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field path of an `InvalidArgument` (`resize.width` → `ops[2].resize.width`).
    pub fn within(self, prefix: &str) -> Self {
        match self {
            ServiceError::InvalidArgument { field, message } => ServiceError::InvalidArgument {
                field: if field.is_empty() {
                    prefix.to_string()
                } else {
                    format!("{prefix}.{field}")
                },
                message,
            },
            other => other,
        }
    }

    /// The error as one item of a batch.
    pub fn to_item_error(&self) -> ItemError {
        let (kind, field) = match self {
            ServiceError::InvalidImage(_) => (ErrorKind::INVALID_IMAGE, None),
            ServiceError::Unsupported { .. } => (ErrorKind::UNSUPPORTED, None),
            ServiceError::InvalidArgument { field, .. } => {
                (ErrorKind::INVALID_ARGUMENT, Some(field.clone()))
            }
            ServiceError::TooLarge { .. } => (ErrorKind::TOO_LARGE, None),
            ServiceError::Overloaded(_) | ServiceError::Internal(_) => (ErrorKind::INTERNAL, None),
        };
        ItemError {
            kind,
            message: self.to_string(),
            field,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::InvalidImage(m)
            | ServiceError::Overloaded(m)
            | ServiceError::Internal(m) => f.write_str(m),
            ServiceError::Unsupported { message, .. } => f.write_str(message),
            ServiceError::InvalidArgument { field, message } => write!(f, "{field}: {message}"),
            ServiceError::TooLarge {
                what,
                limit,
                requested,
            } if *requested > 0 => write!(
                f,
                "the request needs {requested} {what}, over this server's limit of {limit}"
            ),
            ServiceError::TooLarge { what, limit, .. } => write!(
                f,
                "the request needs more {what} than this server's limit of {limit}"
            ),
        }
    }
}

impl std::error::Error for ServiceError {}

impl From<mosaic_runtime::Error> for ServiceError {
    fn from(e: mosaic_runtime::Error) -> Self {
        match e {
            mosaic_runtime::Error::Overloaded(m) => ServiceError::Overloaded(m),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

// The declared exceptions, built from a ServiceError.

fn invalid_image(e: &ServiceError) -> InvalidImage {
    InvalidImage {
        message: e.to_string(),
    }
}

fn unsupported(e: &ServiceError) -> Unsupported {
    let what = match e {
        ServiceError::Unsupported { what, .. } => Some(what.clone()),
        _ => None,
    };
    Unsupported {
        message: e.to_string(),
        what,
    }
}

fn too_large(e: &ServiceError) -> TooLarge {
    match e {
        ServiceError::TooLarge {
            what,
            limit,
            requested,
        } => TooLarge {
            message: e.to_string(),
            what: Some(what.clone()),
            limit: Some(*limit),
            requested: Some(*requested),
        },
        _ => TooLarge {
            message: e.to_string(),
            ..Default::default()
        },
    }
}

fn overloaded(e: &ServiceError) -> Overloaded {
    Overloaded {
        message: e.to_string(),
        retry_after_ms: Some(50),
    }
}

fn invalid_argument(e: &ServiceError) -> InvalidArgument {
    let field = match e {
        ServiceError::InvalidArgument { field, .. } => Some(field.clone()),
        _ => None,
    };
    InvalidArgument {
        message: e.to_string(),
        field,
    }
}

fn internal(e: &ServiceError) -> mosaic_runtime::Error {
    mosaic_runtime::Error::internal(e.to_string())
}

/// `From<ServiceError>` for a generated error enum, mapping each kind onto the variant the
/// method declares; kinds it does not declare become an internal application exception
/// carrying the message.
macro_rules! into_declared {
    ($target:ident { $($kind:ident => $variant:ident($build:ident)),* $(,)? }) => {
        impl From<ServiceError> for $target {
            fn from(e: ServiceError) -> Self {
                match &e {
                    $(ServiceError::$kind { .. } => $target::$variant($build(&e)),)*
                    #[allow(unreachable_patterns)]
                    _ => $target::Other(internal(&e)),
                }
            }
        }
    };
}

into_declared!(InfoError {
    InvalidImage => InvalidImage(invalid_image),
    Unsupported => Unsupported(unsupported),
    TooLarge => TooLarge(too_large),
    Overloaded => Overloaded(overloaded),
    // info has no argument to be out of range but the image; say so as an invalid image.
    InvalidArgument => InvalidImage(invalid_image),
});

into_declared!(StatsError {
    InvalidImage => InvalidImage(invalid_image),
    Unsupported => Unsupported(unsupported),
    TooLarge => TooLarge(too_large),
    Overloaded => Overloaded(overloaded),
    InvalidArgument => InvalidImage(invalid_image),
});

into_declared!(TransformError {
    InvalidImage => InvalidImage(invalid_image),
    Unsupported => Unsupported(unsupported),
    TooLarge => TooLarge(too_large),
    Overloaded => Overloaded(overloaded),
    InvalidArgument => InvalidArgument(invalid_argument),
});

into_declared!(TransformBatchError {
    Unsupported => Unsupported(unsupported),
    TooLarge => TooLarge(too_large),
    Overloaded => Overloaded(overloaded),
    InvalidArgument => InvalidArgument(invalid_argument),
});

into_declared!(HistogramError {
    InvalidImage => InvalidImage(invalid_image),
    Unsupported => Unsupported(unsupported),
    TooLarge => TooLarge(too_large),
    Overloaded => Overloaded(overloaded),
    InvalidArgument => InvalidArgument(invalid_argument),
});

into_declared!(SegmentError {
    InvalidImage => InvalidImage(invalid_image),
    Unsupported => Unsupported(unsupported),
    TooLarge => TooLarge(too_large),
    Overloaded => Overloaded(overloaded),
    InvalidArgument => InvalidArgument(invalid_argument),
});

into_declared!(FeaturesError {
    InvalidImage => InvalidImage(invalid_image),
    Unsupported => Unsupported(unsupported),
    TooLarge => TooLarge(too_large),
    Overloaded => Overloaded(overloaded),
    InvalidArgument => InvalidArgument(invalid_argument),
});
