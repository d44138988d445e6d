//! Java names for IDL names: keyword escaping, accessor names, and literal escaping.
//!
//! Every identifier the Java back end emits goes through this module, so that any name the
//! IDL allows compiles:
//! - [`escape`] appends `_` to Java's reserved words (`class` → `class_`), to the literals
//!   `true`, `false`, `null`, and to the restricted identifiers `var`, `yield`, `record` and
//!   `_`; names are never refused;
//! - [`accessor`] builds the `Foo` of `getFoo`/`setFoo`/`isSetFoo` from a field name as
//!   libthrift's conventions do (first letter upper-cased), avoiding methods that `Object`
//!   and `Throwable` already declare;
//! - [`string_literal`] and [`doc_text`] escape text for string literals and Javadoc, keeping
//!   the files ASCII and safe from Java's `\u` processing.

/// Java's reserved words (JLS 17 §3.9), its literals, and the restricted identifiers that
/// cannot name a type or, for `_`, anything.
const KEYWORDS: &[&str] = &[
    "_",
    "abstract",
    "assert",
    "boolean",
    "break",
    "byte",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extends",
    "false",
    "final",
    "finally",
    "float",
    "for",
    "goto",
    "if",
    "implements",
    "import",
    "instanceof",
    "int",
    "interface",
    "long",
    "native",
    "new",
    "non-sealed",
    "null",
    "package",
    "permits",
    "private",
    "protected",
    "public",
    "record",
    "return",
    "sealed",
    "short",
    "static",
    "strictfp",
    "super",
    "switch",
    "synchronized",
    "this",
    "throw",
    "throws",
    "transient",
    "true",
    "try",
    "var",
    "void",
    "volatile",
    "while",
    "yield",
];

/// The first segments of the packages generated code names in full (`java.lang.String`,
/// `org.apache.thrift.TBase`): a parameter or field with one of these names would hide them.
const PACKAGE_ROOTS: &[&str] = &["java", "org"];

/// Whether `name` is reserved in Java 17 (a keyword, a literal or a restricted identifier).
pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// A usable Java identifier for `name`: `name_` for reserved words and for the package roots
/// generated code refers to (`java`, `org`), `name` otherwise.
pub(crate) fn escape(name: &str) -> String {
    if is_keyword(name) || PACKAGE_ROOTS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// The Java name of a value of enum `enum_name`: [`escape`]d, and `name_` when it would
/// repeat the enum's class name (`Level.Level`), which inside the class would make
/// `Level.Other` read as a field access on the constant.
pub(crate) fn enum_value(enum_name: &str, name: &str) -> String {
    let escaped = escape(name);
    if escaped == escape(enum_name) {
        format!("{escaped}_")
    } else {
        escaped
    }
}

/// Methods that generated clients already have, from `Object`, libthrift's `TServiceClient`
/// or `AsyncClient` (`close`, `inFlight`, `invoke`): a service method with one of these names
/// gets a trailing `_`, whatever its arguments.
const CLIENT_METHODS: &[&str] = &[
    "clone",
    "close",
    "equals",
    "finalize",
    "getClass",
    "getInputProtocol",
    "getOutputProtocol",
    "hashCode",
    "inFlight",
    "invoke",
    "notify",
    "notifyAll",
    "receiveBase",
    "sendBase",
    "sendBaseOneway",
    "toString",
    "wait",
];

/// The Java name of a service method: [`escape`]d, and `name_` for the methods generated
/// clients already have.
pub(crate) fn method(name: &str) -> String {
    if CLIENT_METHODS.contains(&name) {
        format!("{name}_")
    } else {
        escape(name)
    }
}

/// A package segment: `name_` for reserved words only (`org` stays `org`).
pub(crate) fn escape_package_segment(name: &str) -> String {
    if is_keyword(name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// The capitalized part of a field's accessors (`string_thing` → `String_thing`, as libthrift
/// code does), after escaping. Names whose getter `Object` or `Throwable` already declares
/// (`getClass`, `getCause`, ...) get a trailing `_`.
pub(crate) fn accessor(name: &str, in_exception: bool, is_string: bool) -> String {
    let escaped = escape(name);
    let mut chars = escaped.chars();
    let cap = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    let taken_by_object = cap == "Class";
    let taken_by_throwable = in_exception
        && (matches!(
            cap.as_str(),
            "Cause" | "StackTrace" | "LocalizedMessage" | "Suppressed"
        ) || (cap == "Message" && !is_string));
    if taken_by_object || taken_by_throwable {
        format!("{cap}_")
    } else {
        cap
    }
}

/// A Java string literal (with quotes) for `text`: ASCII only, everything else as `\uXXXX`
/// (surrogate pairs beyond the BMP).
pub(crate) fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// Text for a Javadoc comment: HTML-escaped, `*/` and backslashes defused, non-ASCII kept as
/// HTML character references so that files stay ASCII.
pub(crate) fn doc_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' => out.push_str("&#92;"),
            '@' => out.push_str("&#64;"),
            ' '..='~' => out.push(c),
            '\t' => out.push_str("    "),
            _ => out.push_str(&format!("&#{};", c as u32)),
        }
    }
    out.replace("*/", "*&#47;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_is_escaped_with_a_trailing_underscore() {
        for keyword in KEYWORDS {
            assert_eq!(
                escape(keyword),
                format!("{keyword}_"),
                "{keyword} is escaped"
            );
            assert!(!is_keyword(&escape(keyword)), "{keyword}_ is usable");
        }
    }

    #[test]
    fn ordinary_names_are_kept_as_written() {
        assert_eq!(
            escape("string_thing"),
            "string_thing",
            "names keep their case"
        );
        assert_eq!(escape("Class"), "Class", "keywords are case sensitive");
        assert_eq!(escape("java"), "java_", "java.lang.String stays visible");
        assert_eq!(escape("org"), "org_", "org.apache.thrift stays visible");
    }

    #[test]
    fn service_methods_avoid_the_clients_own_methods() {
        for name in CLIENT_METHODS {
            assert_eq!(method(name), format!("{name}_"), "{name} is the client's");
        }
        assert_eq!(method("default"), "default_", "keywords are escaped too");
        assert_eq!(method("testString"), "testString", "others are kept");
    }

    #[test]
    fn accessors_follow_libthrift_and_avoid_inherited_methods() {
        assert_eq!(accessor("string_thing", false, true), "String_thing");
        assert_eq!(
            accessor("class", false, false),
            "Class_",
            "getClass is Object's"
        );
        assert_eq!(
            accessor("Class", false, false),
            "Class_",
            "getClass is Object's"
        );
        assert_eq!(
            accessor("message", true, true),
            "Message",
            "overrides getMessage"
        );
        assert_eq!(
            accessor("message", true, false),
            "Message_",
            "other types cannot"
        );
        assert_eq!(
            accessor("cause", true, true),
            "Cause_",
            "getCause is Throwable's"
        );
        assert_eq!(
            accessor("cause", false, true),
            "Cause",
            "structs are not Throwables"
        );
    }

    #[test]
    fn string_literals_are_ascii_and_escaped() {
        assert_eq!(string_literal("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(string_literal("é"), r#""\u00e9""#);
        assert_eq!(string_literal("🦀"), r#""\ud83e\udd80""#, "surrogate pairs");
    }

    #[test]
    fn doc_text_cannot_end_the_comment_or_start_a_unicode_escape() {
        assert_eq!(doc_text("a */ b"), "a *&#47; b");
        assert_eq!(doc_text(r"\u000a"), "&#92;u000a");
        assert_eq!(doc_text("<b>&"), "&lt;b&gt;&amp;");
    }
}
