//! Python names for IDL names: keyword and builtin escaping.
//!
//! IDL names are kept as written (Apache's generator does the same, and callers of
//! `thrift --gen py` code spell them that way); only names Python cannot use, or that would
//! shadow something the generated code needs, get a trailing `_`:
//! - [`keyword`] escapes Python's hard keywords everywhere (`from` → `from_`, `None` → `None_`);
//! - [`global`] also escapes builtins and the names generated modules import, for names
//!   defined at module level (types, constants, services), where they would shadow them;
//! - [`field`] also escapes the names a struct's class uses (`read`, `write`, `self`, ...),
//!   and [`argument`] those a client's or processor's methods use (`args`, `result`, ...).

/// Python 3 hard keywords; soft keywords (`match`, `case`, `type`, `_`) are valid names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Builtins (functions, types, constants and the common exceptions).
const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BufferError",
    "BytesWarning",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EnvironmentError",
    "Exception",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "IndentationError",
    "IndexError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "NameError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "RecursionError",
    "ReferenceError",
    "RuntimeError",
    "StopIteration",
    "SyntaxError",
    "SystemError",
    "SystemExit",
    "TimeoutError",
    "TypeError",
    "UnicodeError",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

/// Names that generated modules import or define at module level, and the modules of a
/// package (a service named `constants` must not replace `constants.py`).
const MODULE_NAMES: &[&str] = &[
    "Any",
    "Callable",
    "ClassVar",
    "Client",
    "Iface",
    "NoReturn",
    "Processor",
    "TApplicationException",
    "TException",
    "TFrozenDict",
    "TMessageType",
    "TProcessor",
    "TProtocolBase",
    "TProtocolException",
    "TTransport",
    "TType",
    "TypeAlias",
    "_UNSET",
    "all_structs",
    "annotations",
    "cast",
    "constants",
    "enum",
    "fix_spec",
    "logging",
    "sys",
    "ttypes",
    "uuid",
];

/// Names a struct's class already uses for its own members, or its constructor for `self`,
/// and the two its annotations use that no type alias can stand for (`thrift_spec:
/// ClassVar[tuple[Any, ...] | None]`); other names a field shadows go through aliases.
const FIELD_NAMES: &[&str] = &[
    "ClassVar",
    "read",
    "self",
    "thrift_spec",
    "tuple",
    "validate",
    "write",
];

/// Names a client's or processor's generated methods use beside the arguments.
const ARGUMENT_NAMES: &[&str] = &[
    "args",
    "handler",
    "iprot",
    "oprot",
    "read",
    "result",
    "seqid",
    "self",
    "thrift_spec",
    "validate",
    "write",
];

/// Whether `name` is a Python keyword.
pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// Whether `name` is a Python builtin.
pub(crate) fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// `name`, or `name_` for a keyword.
pub(crate) fn keyword(name: &str) -> String {
    if is_keyword(name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// A module-level name: keywords, builtins and the generated modules' own imports escaped.
pub(crate) fn global(name: &str) -> String {
    if is_keyword(name) || is_builtin(name) || MODULE_NAMES.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// A struct field's name: keywords and the class's own members escaped.
pub(crate) fn field(name: &str) -> String {
    if is_keyword(name) || FIELD_NAMES.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// A service method's argument: keywords, the names generated methods use, and names like
/// the helper classes (`<method>_args`, `<method>_result`) escaped.
pub(crate) fn argument(name: &str) -> String {
    // `<method>_args` and `<method>_result` are the helper classes the methods build.
    let helper = name.ends_with("_args") || name.ends_with("_result");
    if is_keyword(name) || ARGUMENT_NAMES.contains(&name) || helper {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_is_escaped_in_every_position() {
        for kw in KEYWORDS {
            let escaped = format!("{kw}_");
            assert_eq!(keyword(kw), escaped, "`{kw}` is a keyword");
            assert_eq!(global(kw), escaped, "`{kw}` is escaped at module level");
            assert_eq!(field(kw), escaped, "`{kw}` is escaped as a field");
            assert_eq!(argument(kw), escaped, "`{kw}` is escaped as an argument");
        }
    }

    #[test]
    fn soft_keywords_are_names() {
        for soft in ["match", "case", "type", "_"] {
            assert_eq!(
                keyword(soft),
                soft,
                "`{soft}` is a soft keyword, usable as a name"
            );
        }
    }

    #[test]
    fn builtins_are_escaped_only_at_module_level() {
        for builtin in BUILTINS {
            assert_eq!(
                global(builtin),
                format!("{builtin}_"),
                "`{builtin}` at module level"
            );
            // `tuple` is the one builtin a class's annotations need unaliased.
            let attribute = if *builtin == "tuple" {
                "tuple_".to_string()
            } else {
                builtin.to_string()
            };
            assert_eq!(field(builtin), attribute, "`{builtin}` as an attribute");
        }
    }

    #[test]
    fn generated_names_are_not_shadowed() {
        assert_eq!(
            global("TType"),
            "TType_",
            "an IDL type named TType keeps the import"
        );
        assert_eq!(
            field("read"),
            "read_",
            "a field named read keeps the method"
        );
        assert_eq!(field("result"), "result", "a field may be called result");
        assert_eq!(
            argument("result"),
            "result_",
            "an argument named result keeps the local"
        );
        assert_eq!(
            argument("self"),
            "self_",
            "an argument named self keeps the receiver"
        );
        assert_eq!(
            field("message"),
            "message",
            "ordinary names are kept as written"
        );
    }
}
