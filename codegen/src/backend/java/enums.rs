//! Enums: a final class with one constant per value that also represents values it does not
//! name, so that a newer peer's value round-trips.

use super::out::Out;
use super::{ident, javadoc, Cx};
use crate::ir::EnumId;

impl Cx<'_> {
    pub(crate) fn enum_class(&self, o: &mut Out, id: EnumId) {
        let e = self.program.enum_(id);
        let class = ident::escape(&e.name);
        let lit = |s: &str| ident::string_literal(s);
        javadoc(o, e.doc.as_deref());
        if e.doc.is_none() {
            o.line(&format!(
                "/** The IDL enum {}. */",
                ident::doc_text(&e.name)
            ));
        }
        o.open(&format!(
            "public final class {class} implements org.apache.thrift.TEnum, java.lang.Comparable<{class}>, java.io.Serializable"
        ));
        o.line("private static final long serialVersionUID = 1L;");
        for v in &e.values {
            o.blank();
            javadoc(o, v.doc.as_deref());
            o.line(&format!(
                "public static final {class} {} = new {class}({}, {});",
                ident::enum_value(&e.name, &v.name),
                v.value,
                lit(&v.name)
            ));
        }
        o.blank();
        o.line("private final int __value;");
        o.line("private final java.lang.String __name;");
        o.blank();
        o.open(&format!(
            "private {class}(int value, java.lang.String name)"
        ));
        o.line("this.__value = value;");
        o.line("this.__name = name;");
        o.close();
        o.blank();
        o.line("/** The value on the wire. */");
        o.line("@java.lang.Override");
        o.open("public int getValue()");
        o.line("return __value;");
        o.close();
        o.blank();
        o.line("/** Whether the IDL names this value. */");
        o.open("public boolean isKnown()");
        o.line("return __name != null;");
        o.close();
        o.blank();
        o.line(
            "/** The IDL name of this value, or {@code null} for a value the IDL does not name. */",
        );
        o.open("public java.lang.String name()");
        o.line("return __name;");
        o.close();
        o.blank();
        o.line("/**");
        o.line(" * The constant for {@code value}; a value the IDL does not name gets an instance of its");
        o.line(" * own, equal to every other instance of that value, which writes the same value back.");
        o.line(" */");
        o.open(&format!("public static {class} findByValue(int value)"));
        if !e.values.is_empty() {
            o.open("switch (value)");
            let mut seen = std::collections::BTreeSet::new();
            for v in &e.values {
                if seen.insert(v.value) {
                    o.line(&format!("case {}:", v.value));
                    o.indent();
                    o.line(&format!(
                        "return {class}.{};",
                        ident::enum_value(&e.name, &v.name)
                    ));
                    o.dedent();
                }
            }
            o.line("default:");
            o.indent();
            o.line(&format!("return new {class}(value, null);"));
            o.dedent();
            o.close();
        } else {
            o.line(&format!("return new {class}(value, null);"));
        }
        o.close();
        o.blank();
        o.line("/** The constant the IDL names {@code name}, or {@code null}. */");
        o.open(&format!(
            "public static {class} findByName(java.lang.String name)"
        ));
        o.open(&format!("for ({class} v : values())"));
        o.open("if (v.__name.equals(name))");
        o.line("return v;");
        o.close();
        o.close();
        o.line("return null;");
        o.close();
        o.blank();
        o.line("/** The values the IDL names, in declaration order. */");
        o.open(&format!("public static java.util.List<{class}> values()"));
        let names: Vec<String> = e
            .values
            .iter()
            .map(|v| ident::enum_value(&e.name, &v.name))
            .collect();
        o.line(&format!("return java.util.List.of({});", names.join(", ")));
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open(&format!("public int compareTo({class} other)"));
        o.line("return java.lang.Integer.compare(__value, other.__value);");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public boolean equals(java.lang.Object other)");
        o.line(&format!(
            "return other instanceof {class} && (({class}) other).__value == __value;"
        ));
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public int hashCode()");
        o.line("return __value;");
        o.close();
        o.blank();
        o.line(&format!(
            "/** The IDL name, or {{@code {}(value)}} for a value the IDL does not name. */",
            ident::doc_text(&e.name)
        ));
        o.line("@java.lang.Override");
        o.open("public java.lang.String toString()");
        o.line(&format!(
            "return __name != null ? __name : {} + __value + \")\";",
            lit(&format!("{}(", e.name))
        ));
        o.close();
        o.close();
    }
}
