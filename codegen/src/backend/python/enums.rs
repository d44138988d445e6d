//! Enums: `enum.IntEnum` classes that keep values they do not declare.

use std::collections::BTreeSet;

use crate::ir::EnumId;

use super::ident;
use super::text::{string_literal, Expr, Out};
use super::Cx;

impl Cx<'_> {
    /// The class, then Apache's `_VALUES_TO_NAMES`/`_NAMES_TO_VALUES` tables beside it.
    pub(crate) fn enum_class(&self, out: &mut Out, id: EnumId) {
        let e = self.program.enum_(id);
        let name = self.enum_name(id);
        out.line(0, &format!("class {name}(enum.IntEnum):"));
        match e.doc.as_deref() {
            Some(doc) => out.docstring(1, doc),
            None => out.docstring(1, &format!("The IDL enum `{}`.", e.name)),
        }
        out.blank();
        for v in &e.values {
            out.line(1, &format!("{} = {}", ident::keyword(&v.name), v.value));
            if let Some(doc) = v.doc.as_deref() {
                out.docstring(1, doc);
            }
        }
        if !e.values.is_empty() {
            out.blank();
        }
        let shadow: BTreeSet<String> = e.values.iter().map(|v| ident::keyword(&v.name)).collect();
        let hint = |h: &str| self.unshadow(h, &shadow);
        out.line(
            1,
            &format!("_VALUES_TO_NAMES: {}", hint("ClassVar[dict[int, str]]")),
        );
        out.line(
            1,
            &format!("_NAMES_TO_VALUES: {}", hint("ClassVar[dict[str, int]]")),
        );
        out.blank();
        out.line(1, "@classmethod");
        out.line(
            1,
            &format!(
                "def _missing_(cls, value: {}) -> {} | None:",
                hint("object"),
                hint(&name)
            ),
        );
        out.docstring(
            2,
            "Any other int is a pseudo-member, so values from newer peers survive a round trip.",
        );
        out.line(2, "if not isinstance(value, int):");
        out.line(3, "return None");
        out.line(2, "member = int.__new__(cls, value)");
        out.line(2, "member._name_ = f\"UNKNOWN_{value}\"");
        out.line(2, "member._value_ = value");
        out.line(2, "return member");
        out.blank();
        out.blank();
        let to_names = e
            .values
            .iter()
            .map(|v| {
                Expr::prefixed(
                    format!("{}: ", v.value),
                    Expr::atom(string_literal(&v.name)),
                )
            })
            .collect();
        out.expr(
            0,
            &format!("{name}._VALUES_TO_NAMES = "),
            &Expr::brackets("{", to_names, "}"),
            "",
        );
        let to_values = e
            .values
            .iter()
            .map(|v| {
                Expr::prefixed(
                    format!("{}: ", string_literal(&v.name)),
                    Expr::atom(v.value.to_string()),
                )
            })
            .collect();
        out.expr(
            0,
            &format!("{name}._NAMES_TO_VALUES = "),
            &Expr::brackets("{", to_values, "}"),
            "",
        );
    }
}
