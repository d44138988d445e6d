//! Every diagnostic code, one per kind of problem. Codes are stable: a code is never reused
//! for another kind of problem, so tools and tests can match on it.
//!
//! `M00xx` reading and lexing, `M01xx` syntax, `M02xx` includes, `M03xx` names and types,
//! `M04xx` constant values, `M05xx` services and structure, `M09xx` warnings.

// Reading and lexing.
/// A file could not be read (missing root, I/O error).
pub const CANNOT_READ: &str = "M0001";
/// A file is not valid UTF-8.
pub const NOT_UTF8: &str = "M0002";
/// A character that starts no token.
pub const UNEXPECTED_CHAR: &str = "M0010";
/// A string literal without its closing quote on the same line.
pub const UNTERMINATED_STRING: &str = "M0011";
/// An escape other than `\n \r \t \" \' \\` in a string literal.
pub const INVALID_ESCAPE: &str = "M0012";
/// A `/*` comment without `*/`.
pub const UNTERMINATED_COMMENT: &str = "M0013";
/// An integer literal that does not fit in 64 bits.
pub const INTEGER_TOO_LARGE: &str = "M0014";

// Syntax.
/// A token that does not fit the grammar here.
pub const SYNTAX: &str = "M0100";
/// A keyword where a name is expected.
pub const KEYWORD_AS_NAME: &str = "M0101";
/// A dotted name where a simple name is required (definitions, fields).
pub const DOTTED_NAME: &str = "M0102";
/// Values or types nested deeper than the parser allows.
pub const TOO_DEEP: &str = "M0103";
/// Syntax Apache Thrift has removed (`senum`, `slist`, `cpp_namespace`, ...).
pub const REMOVED_SYNTAX: &str = "M0104";
/// The parser stopped making progress through the tokens: a bug in Mosaic's parser, reported
/// (and the rest of the file skipped) instead of looping forever.
pub const PARSER_STUCK: &str = "M0105";

// Includes.
/// An `include` whose file is found neither beside the including file nor in the include dirs.
pub const INCLUDE_NOT_FOUND: &str = "M0200";
/// Files that include each other.
pub const INCLUDE_CYCLE: &str = "M0201";

// Names and types.
/// A type name that resolves to nothing.
pub const UNKNOWN_TYPE: &str = "M0300";
/// An `extends` naming no service.
pub const UNKNOWN_SERVICE: &str = "M0301";
/// A name used as a type that names a service or a constant, or the reverse.
pub const WRONG_KIND_OF_NAME: &str = "M0302";
/// Two definitions with one name in a file.
pub const DUPLICATE_DEFINITION: &str = "M0303";
/// Two fields (or arguments, or `throws` entries) with one name.
pub const DUPLICATE_FIELD_NAME: &str = "M0304";
/// Two fields with one id.
pub const DUPLICATE_FIELD_ID: &str = "M0305";
/// Two enum values with one name.
pub const DUPLICATE_ENUM_VALUE: &str = "M0306";
/// Two functions with one name in a service or its bases.
pub const DUPLICATE_FUNCTION: &str = "M0307";
/// A field id outside `i16`.
pub const FIELD_ID_RANGE: &str = "M0308";
/// An enum value outside `i32`.
pub const ENUM_VALUE_RANGE: &str = "M0309";
/// A typedef that aliases itself through a chain.
pub const TYPEDEF_CYCLE: &str = "M0310";
/// Structs whose required fields contain each other: no value can ever be built.
pub const REQUIRED_CYCLE: &str = "M0311";
/// Services that extend each other.
pub const EXTENDS_CYCLE: &str = "M0312";

// Constant values.
/// A value of the wrong kind for its type (a string for an `i32`, ...).
pub const CONST_MISMATCH: &str = "M0400";
/// An integer outside the range of its type.
pub const CONST_RANGE: &str = "M0401";
/// A name used as a value that is no constant and no enum value.
pub const UNKNOWN_CONST: &str = "M0402";
/// An enum value that the enum does not have.
pub const UNKNOWN_ENUM_VALUE: &str = "M0403";
/// A struct literal naming a field the struct does not have.
pub const UNKNOWN_STRUCT_FIELD: &str = "M0404";
/// A string that is no valid UUID assigned to a `uuid`.
pub const INVALID_UUID: &str = "M0405";
/// Constants defined in terms of each other.
pub const CONST_CYCLE: &str = "M0406";
/// A union with more than one default value.
pub const UNION_DEFAULTS: &str = "M0407";

// Services and structure.
/// A `oneway` function that returns a value.
pub const ONEWAY_RETURNS: &str = "M0500";
/// A `oneway` function with a `throws` clause.
pub const ONEWAY_THROWS: &str = "M0501";
/// A `throws` entry whose type is no exception.
pub const THROWS_NOT_EXCEPTION: &str = "M0502";

// Warnings.
/// A field without an explicit id; Apache gives it a negative one.
pub const IMPLICIT_FIELD_ID: &str = "M0900";
/// A field id of zero or below, replaced by an implicit one as Apache does.
pub const NONPOSITIVE_FIELD_ID: &str = "M0901";
/// A `namespace` scope no Apache generator knows.
pub const UNKNOWN_NAMESPACE: &str = "M0902";
/// `required` on a union member, which is always optional.
pub const UNION_REQUIREDNESS: &str = "M0903";
/// `optional` in an argument list, where it means nothing.
pub const OPTIONAL_ARGUMENT: &str = "M0904";
/// Deprecated syntax Apache still accepts (`async`, a `cpp_type` after `list<...>`).
pub const DEPRECATED: &str = "M0905";
/// An enum value written with another enum's name, which Apache reads as the expected enum's.
pub const ENUM_PREFIX: &str = "M0906";
