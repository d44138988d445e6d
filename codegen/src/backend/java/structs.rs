//! Structs, exceptions and unions: classes implementing libthrift's `TBase`.
//!
//! A struct or exception keeps presence for every field: object fields are unset when `null`,
//! primitive fields have a private flag. Accessors follow libthrift's code: `getFoo()`,
//! `setFoo(v)` (returning `this`), `unsetFoo()`, `isSetFoo()`, where `Foo` is the field name
//! with its first letter upper-cased. `newBuilder()` and `toBuilder()` give a `Builder` whose
//! `build()` checks required fields. A union holds one field (`getSetField()`), built with a
//! static factory per field (`SomeUnion.string_thing("x")`).

use std::collections::BTreeSet;

use super::out::Out;
use super::{ident, javadoc, Cx};
use crate::ir::{Field, Requiredness, Struct, StructKind, Type};

/// What the generators need to know about one field.
pub(crate) struct FieldInfo<'f> {
    pub field: &'f Field,
    /// The Java field and parameter name.
    pub name: String,
    /// `Foo` of `getFoo`.
    pub acc: String,
    pub jty: String,
    pub boxed: String,
    pub prim: bool,
    /// The `_Fields` constant.
    pub constant: String,
    /// The static `TField` descriptor.
    pub desc: String,
}

impl Cx<'_> {
    pub(crate) fn field_infos<'f>(&self, s: &'f Struct, from: Option<&str>) -> Vec<FieldInfo<'f>> {
        let mut constants = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut accessors = BTreeSet::new();
        s.fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                // `class` and `class_`, or `class` and `Class`, would collide once escaped.
                let mut name = ident::escape(&f.name);
                while !names.insert(name.clone()) {
                    name.push('_');
                }
                let mut acc = ident::accessor(
                    &f.name,
                    s.kind == StructKind::Exception,
                    matches!(self.program.true_type(&f.ty), Type::String),
                );
                while !accessors.insert(acc.clone()) {
                    acc.push('_');
                }
                let mut constant: String = f
                    .name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_uppercase()
                        } else {
                            '_'
                        }
                    })
                    .collect();
                if constant == "_" || constant.is_empty() {
                    constant.push_str("_FIELD");
                }
                while !constants.insert(constant.clone()) {
                    constant.push('_');
                }
                FieldInfo {
                    field: f,
                    name,
                    acc,
                    jty: self.jtype(&f.ty, from, false),
                    boxed: self.jtype(&f.ty, from, true),
                    prim: self.is_primitive(&f.ty),
                    constant,
                    desc: format!("FIELD_{i}_DESC"),
                }
            })
            .collect()
    }

    /// The class for a struct, exception or union, as a top-level class.
    pub(crate) fn struct_class(&self, o: &mut Out, id: crate::ir::StructId) {
        let s = self.program.struct_(id);
        let pkg = self.package(s.file);
        self.struct_body(o, s, pkg.as_deref(), "public class");
    }

    /// A struct class with the given modifiers (`public class`, `public static class`).
    pub(crate) fn struct_body(&self, o: &mut Out, s: &Struct, from: Option<&str>, modifiers: &str) {
        let class = ident::escape(&s.name);
        let fields = self.field_infos(s, from);
        javadoc(o, s.doc.as_deref());
        if s.doc.is_none() {
            let what = match s.kind {
                StructKind::Struct => "struct",
                StructKind::Union => "union",
                StructKind::Exception => "exception",
            };
            o.line(&format!(
                "/** The IDL {what} {}. */",
                ident::doc_text(&s.name)
            ));
        }
        let extends = if s.kind == StructKind::Exception {
            " extends org.apache.thrift.TException"
        } else {
            ""
        };
        o.open(&format!(
            "{modifiers} {class}{extends} implements org.apache.thrift.TBase<{class}, {class}._Fields>"
        ));
        o.line("private static final long serialVersionUID = 1L;");
        o.line(&format!(
            "private static final org.apache.thrift.protocol.TStruct STRUCT_DESC = new org.apache.thrift.protocol.TStruct({});",
            ident::string_literal(&s.name)
        ));
        for f in &fields {
            o.line(&format!(
                "private static final org.apache.thrift.protocol.TField {} = new org.apache.thrift.protocol.TField({}, {}, (short) {});",
                f.desc,
                ident::string_literal(&f.field.name),
                self.ttype(&f.field.ty),
                f.field.id
            ));
        }
        o.blank();
        self.fields_enum(o, &fields);
        if s.kind == StructKind::Union {
            self.union_members(o, s, &class, &fields, from);
        } else {
            self.struct_members(o, s, &class, &fields, from);
        }
        o.close();
    }

    fn fields_enum(&self, o: &mut Out, fields: &[FieldInfo<'_>]) {
        o.line("/** The fields, for libthrift's generic access ({@code getFieldValue}, ...). */");
        o.open("public enum _Fields implements org.apache.thrift.TFieldIdEnum");
        if fields.is_empty() {
            o.line(";");
        }
        for (i, f) in fields.iter().enumerate() {
            let end = if i + 1 == fields.len() { ";" } else { "," };
            o.line(&format!(
                "{}((short) {}, {}){end}",
                f.constant,
                f.field.id,
                ident::string_literal(&f.field.name)
            ));
        }
        o.blank();
        o.line("private final short thriftId;");
        o.line("private final java.lang.String fieldName;");
        o.blank();
        o.open("_Fields(short thriftId, java.lang.String fieldName)");
        o.line("this.thriftId = thriftId;");
        o.line("this.fieldName = fieldName;");
        o.close();
        o.blank();
        o.line("/** The field with this id, or {@code null}. */");
        o.open("public static _Fields findByThriftId(int fieldId)");
        if !fields.is_empty() {
            o.open("switch (fieldId)");
            for f in fields {
                o.line(&format!("case {}:", f.field.id));
                o.indent();
                o.line(&format!("return {};", f.constant));
                o.dedent();
            }
            o.line("default:");
            o.indent();
            o.line("return null;");
            o.dedent();
            o.close();
        } else {
            o.line("return null;");
        }
        o.close();
        o.blank();
        o.line("/** The field with this IDL name, or {@code null}. */");
        o.open("public static _Fields findByName(java.lang.String name)");
        o.open("for (_Fields field : values())");
        o.open("if (field.fieldName.equals(name))");
        o.line("return field;");
        o.close();
        o.close();
        o.line("return null;");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public short getThriftFieldId()");
        o.line("return thriftId;");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public java.lang.String getFieldName()");
        o.line("return fieldName;");
        o.close();
        o.close();
    }

    fn isset_flag(f: &FieldInfo<'_>) -> String {
        format!("__isset_{}", f.name)
    }

    fn is_set_expr(f: &FieldInfo<'_>, on: &str) -> String {
        if f.prim {
            format!("{on}.{}", Self::isset_flag(f))
        } else {
            format!("{on}.{} != null", f.name)
        }
    }

    fn struct_members(
        &self,
        o: &mut Out,
        s: &Struct,
        class: &str,
        fields: &[FieldInfo<'_>],
        from: Option<&str>,
    ) {
        let any_container = fields.iter().any(|f| {
            matches!(
                self.program.true_type(&f.field.ty),
                Type::List(_) | Type::Set(_) | Type::Map(..)
            )
        });
        // Storage.
        o.blank();
        for f in fields {
            o.line(&format!("private {} {};", f.jty, f.name));
            if f.prim {
                o.line(&format!("private boolean {};", Self::isset_flag(f)));
            }
        }
        // Constructors.
        o.blank();
        o.line("/** A value with only the fields that have IDL defaults set. */");
        o.open(&format!("public {class}()"));
        self.set_defaults(o, fields, from);
        o.close();
        o.blank();
        o.line("/** A deep copy of {@code other}. */");
        o.open(&format!("public {class}({class} other)"));
        for f in fields {
            if f.prim {
                o.line(&format!("this.{0} = other.{0};", f.name));
                o.line(&format!("this.{0} = other.{0};", Self::isset_flag(f)));
            } else if self.needs_deep_copy(&f.field.ty) {
                o.open(&format!("if (other.{} != null)", f.name));
                self.copy_value(
                    o,
                    &f.field.ty,
                    &format!("other.{}", f.name),
                    &format!("this.{}", f.name),
                    from,
                    1,
                );
                o.close();
            } else {
                o.line(&format!("this.{0} = other.{0};", f.name));
            }
        }
        o.close();
        o.blank();
        o.line("/** A builder for a new value; {@code build()} checks that required fields are set. */");
        let builder = builder_name(class);
        o.open(&format!("public static {builder} newBuilder()"));
        o.line(&format!("return new {builder}(new {class}());"));
        o.close();
        o.blank();
        o.line("/** A builder that starts from a copy of this value. */");
        o.open(&format!("public {builder} toBuilder()"));
        o.line(&format!("return new {builder}(new {class}(this));"));
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open(&format!("public {class} deepCopy()"));
        o.line(&format!("return new {class}(this);"));
        o.close();
        o.blank();
        o.line("/** Unsets every field, then sets the fields that have IDL defaults. */");
        o.line("@java.lang.Override");
        o.open("public void clear()");
        o.line("unsetAll();");
        self.set_defaults(o, fields, from);
        o.close();
        o.blank();
        o.open("private void unsetAll()");
        for f in fields {
            o.line(&format!("unset{}();", f.acc));
        }
        o.close();
        // Accessors.
        for f in fields {
            o.blank();
            javadoc(o, f.field.doc.as_deref());
            o.open(&format!("public {} get{}()", f.jty, f.acc));
            o.line(&format!("return this.{};", f.name));
            o.close();
            o.blank();
            if f.prim {
                o.open(&format!(
                    "public {class} set{}({} {})",
                    f.acc, f.jty, f.name
                ));
                o.line(&format!("this.{0} = {0};", f.name));
                o.line(&format!("this.{} = true;", Self::isset_flag(f)));
            } else {
                o.line("/** Sets the field; {@code null} unsets it. */");
                o.open(&format!(
                    "public {class} set{}({} {})",
                    f.acc, f.jty, f.name
                ));
                o.line(&format!("this.{0} = {0};", f.name));
            }
            o.line("return this;");
            o.close();
            o.blank();
            o.open(&format!("public void unset{}()", f.acc));
            if f.prim {
                let zero = match self.program.true_type(&f.field.ty) {
                    Type::Bool => "false",
                    Type::Double => "0.0",
                    _ => "0",
                };
                o.line(&format!("this.{} = {zero};", f.name));
                o.line(&format!("this.{} = false;", Self::isset_flag(f)));
            } else {
                o.line(&format!("this.{} = null;", f.name));
            }
            o.close();
            o.blank();
            o.line(&format!(
                "/** Whether {} is set. */",
                ident::doc_text(&f.field.name)
            ));
            o.open(&format!("public boolean isSet{}()", f.acc));
            o.line(&format!("return {};", Self::is_set_expr(f, "this")));
            o.close();
        }
        // TBase.
        o.blank();
        o.line("@java.lang.Override");
        o.open("public _Fields fieldForId(int fieldId)");
        o.line("return _Fields.findByThriftId(fieldId);");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public boolean isSet(_Fields field)");
        o.open("switch (field)");
        for f in fields {
            o.line(&format!("case {}:", f.constant));
            o.indent();
            o.line(&format!("return isSet{}();", f.acc));
            o.dedent();
        }
        o.close();
        o.line("throw new java.lang.IllegalArgumentException(\"unknown field \" + field);");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public java.lang.Object getFieldValue(_Fields field)");
        o.open("switch (field)");
        for f in fields {
            o.line(&format!("case {}:", f.constant));
            o.indent();
            o.line(&format!("return get{}();", f.acc));
            o.dedent();
        }
        o.close();
        o.line("throw new java.lang.IllegalArgumentException(\"unknown field \" + field);");
        o.close();
        o.blank();
        if any_container {
            o.line("@java.lang.SuppressWarnings(\"unchecked\")");
        }
        o.line("@java.lang.Override");
        o.open("public void setFieldValue(_Fields field, java.lang.Object value)");
        o.open("switch (field)");
        for f in fields {
            o.line(&format!("case {}:", f.constant));
            o.indent();
            o.open("if (value == null)");
            o.line(&format!("unset{}();", f.acc));
            o.reopen("else");
            o.line(&format!("set{}(({}) value);", f.acc, f.boxed));
            o.close();
            o.line("return;");
            o.dedent();
        }
        o.close();
        o.line("throw new java.lang.IllegalArgumentException(\"unknown field \" + field);");
        o.close();
        // validate, read, write.
        o.blank();
        o.line("/** Checks that every required field is set. */");
        o.open("public void validate() throws org.apache.thrift.TException");
        for f in fields
            .iter()
            .filter(|f| f.field.requiredness == Requiredness::Required)
        {
            o.open(&format!("if (!isSet{}())", f.acc));
            o.line(&format!(
                "throw new org.apache.thrift.protocol.TProtocolException({});",
                ident::string_literal(&format!(
                    "required field '{}' of {} is unset",
                    f.field.name, s.name
                ))
            ));
            o.close();
        }
        o.close();
        o.blank();
        o.line(
            "/** Reads a value, replacing every field: fields absent from the input are unset. */",
        );
        o.line("@java.lang.Override");
        o.open("public void read(org.apache.thrift.protocol.TProtocol iprot) throws org.apache.thrift.TException");
        o.line("unsetAll();");
        self.read_fields(o, fields, from, |o, f| {
            if f.prim {
                o.line(&format!("this.{} = true;", Self::isset_flag(f)));
            }
        });
        o.line("validate();");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public void write(org.apache.thrift.protocol.TProtocol oprot) throws org.apache.thrift.TException");
        o.line("validate();");
        o.line("oprot.writeStructBegin(STRUCT_DESC);");
        for f in fields {
            o.open(&format!("if ({})", Self::is_set_expr(f, "this")));
            o.line(&format!("oprot.writeFieldBegin({});", f.desc));
            self.write_value(o, &f.field.ty, &format!("this.{}", f.name), from, 1);
            o.line("oprot.writeFieldEnd();");
            o.close();
        }
        o.line("oprot.writeFieldStop();");
        o.line("oprot.writeStructEnd();");
        o.close();
        // equals, hashCode, compareTo, toString.
        o.blank();
        o.line("@java.lang.Override");
        o.open("public boolean equals(java.lang.Object that)");
        o.line(&format!(
            "return that instanceof {class} && equals(({class}) that);"
        ));
        o.close();
        o.blank();
        o.line("/** Whether both values have the same fields set, to equal values. */");
        o.open(&format!("public boolean equals({class} that)"));
        o.open("if (that == null)");
        o.line("return false;");
        o.close();
        for f in fields {
            o.open(&format!("if (this.isSet{0}() != that.isSet{0}())", f.acc));
            o.line("return false;");
            o.close();
            let eq = if f.prim {
                if matches!(self.program.true_type(&f.field.ty), Type::Double) {
                    format!("java.lang.Double.compare(this.{0}, that.{0}) == 0", f.name)
                } else {
                    format!("this.{0} == that.{0}", f.name)
                }
            } else {
                format!("this.{0}.equals(that.{0})", f.name)
            };
            o.open(&format!("if (this.isSet{}() && !({eq}))", f.acc));
            o.line("return false;");
            o.close();
        }
        o.line("return true;");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public int hashCode()");
        o.line("int hash = 1;");
        for f in fields {
            let value = if f.prim {
                format!("{}.hashCode(this.{})", f.boxed, f.name)
            } else {
                format!("this.{}.hashCode()", f.name)
            };
            o.line(&format!(
                "hash = hash * 8191 + (isSet{}() ? {value} : 524287);",
                f.acc
            ));
        }
        o.line("return hash;");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open(&format!("public int compareTo({class} other)"));
        if !fields.is_empty() {
            o.line("int c;");
        }
        for f in fields {
            o.line(&format!(
                "c = java.lang.Boolean.compare(isSet{0}(), other.isSet{0}());",
                f.acc
            ));
            o.open("if (c != 0)");
            o.line("return c;");
            o.close();
            o.open(&format!("if (isSet{}())", f.acc));
            o.line(&format!(
                "c = org.apache.thrift.TBaseHelper.compareTo(this.{0}, other.{0});",
                f.name
            ));
            o.open("if (c != 0)");
            o.line("return c;");
            o.close();
            o.close();
        }
        o.line("return 0;");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public java.lang.String toString()");
        o.line(&format!(
            "java.lang.StringBuilder sb = new java.lang.StringBuilder({});",
            ident::string_literal(&format!("{}(", s.name))
        ));
        o.line("java.lang.String sep = \"\";");
        for f in fields {
            o.open(&format!("if (isSet{}())", f.acc));
            o.line(&format!(
                "sb.append(sep).append({});",
                ident::string_literal(&format!("{}:", f.field.name))
            ));
            self.append_value(o, &f.field.ty, &format!("this.{}", f.name));
            o.line("sep = \", \";");
            o.close();
        }
        o.line("return sb.append(')').toString();");
        o.close();
        self.builder(o, class, fields);
    }

    fn append_value(&self, o: &mut Out, ty: &Type, value: &str) {
        match self.program.true_type(ty) {
            Type::Binary => o.line(&format!(
                "org.apache.thrift.TBaseHelper.toString({value}, sb);"
            )),
            Type::String => o.line(&format!("sb.append('\"').append({value}).append('\"');")),
            _ => o.line(&format!("sb.append({value});")),
        }
    }

    fn set_defaults(&self, o: &mut Out, fields: &[FieldInfo<'_>], from: Option<&str>) {
        for f in fields {
            let Some(default) = &f.field.default else {
                continue;
            };
            if let Some(expr) = self.const_expr(&f.field.ty, default, from) {
                o.line(&format!("set{}({expr});", f.acc));
            } else {
                o.open("");
                o.line(&format!("{} _default;", f.jty));
                self.const_stmts(o, &f.field.ty, default, "_default", from, 1);
                o.line(&format!("set{}(_default);", f.acc));
                o.close();
            }
        }
    }

    /// The field loop of `read`; `after` runs after a field's value was stored.
    pub(crate) fn read_fields(
        &self,
        o: &mut Out,
        fields: &[FieldInfo<'_>],
        from: Option<&str>,
        after: impl Fn(&mut Out, &FieldInfo<'_>),
    ) {
        o.line("iprot.readStructBegin();");
        o.open("while (true)");
        o.line("org.apache.thrift.protocol.TField _field = iprot.readFieldBegin();");
        o.open("if (_field.type == org.apache.thrift.protocol.TType.STOP)");
        o.line("break;");
        o.close();
        o.open("switch (_field.id)");
        for f in fields {
            o.line(&format!("case {}:", f.field.id));
            o.indent();
            o.open(&format!("if (_field.type == {})", self.ttype(&f.field.ty)));
            self.read_value(o, &f.field.ty, &format!("this.{}", f.name), from, 1);
            after(o, f);
            o.reopen("else");
            o.line("org.apache.thrift.protocol.TProtocolUtil.skip(iprot, _field.type);");
            o.close();
            o.line("break;");
            o.dedent();
        }
        o.line("default:");
        o.indent();
        o.line("org.apache.thrift.protocol.TProtocolUtil.skip(iprot, _field.type);");
        o.dedent();
        o.close();
        o.line("iprot.readFieldEnd();");
        o.close();
        o.line("iprot.readStructEnd();");
    }

    fn builder(&self, o: &mut Out, class: &str, fields: &[FieldInfo<'_>]) {
        let builder = builder_name(class);
        o.blank();
        o.line(&format!(
            "/** Builds a {{@link {class}}}; setters reject {{@code null}}. */"
        ));
        o.open(&format!("public static final class {builder}"));
        o.line(&format!("private final {class} __value;"));
        o.blank();
        o.open(&format!("private {builder}({class} value)"));
        o.line("this.__value = value;");
        o.close();
        for f in fields {
            o.blank();
            o.open(&format!(
                "public {builder} set{}({} {})",
                f.acc, f.jty, f.name
            ));
            if f.prim {
                o.line(&format!("this.__value.set{}({});", f.acc, f.name));
            } else {
                o.line(&format!(
                    "this.__value.set{}(java.util.Objects.requireNonNull({}, {}));",
                    f.acc,
                    f.name,
                    ident::string_literal(&format!("{} == null", f.field.name))
                ));
            }
            o.line("return this;");
            o.close();
        }
        o.blank();
        o.line("/**");
        o.line(" * The value built.");
        o.line(" *");
        o.line(" * @throws java.lang.IllegalStateException when a required field is not set");
        o.line(" */");
        o.open(&format!("public {class} build()"));
        for f in fields
            .iter()
            .filter(|f| f.field.requiredness == Requiredness::Required)
        {
            o.open(&format!("if (!this.__value.isSet{}())", f.acc));
            o.line(&format!(
                "throw new java.lang.IllegalStateException({});",
                ident::string_literal(&format!("required field {} is not set", f.field.name))
            ));
            o.close();
        }
        o.line(&format!("return new {class}(this.__value);"));
        o.close();
        o.close();
    }

    fn union_members(
        &self,
        o: &mut Out,
        s: &Struct,
        class: &str,
        fields: &[FieldInfo<'_>],
        from: Option<&str>,
    ) {
        o.blank();
        o.line("private _Fields setField_;");
        o.line("private java.lang.Object value_;");
        o.blank();
        o.line("/** A union with no field set (which cannot be written). */");
        o.open(&format!("public {class}()"));
        o.close();
        o.blank();
        o.line("/** A deep copy of {@code other}. */");
        o.open(&format!("public {class}({class} other)"));
        o.line("this.setField_ = other.setField_;");
        o.line("this.value_ = other.value_;");
        o.open("if (other.setField_ == null)");
        o.line("return;");
        o.close();
        o.open("switch (other.setField_)");
        for f in fields.iter().filter(|f| self.needs_deep_copy(&f.field.ty)) {
            o.line(&format!("case {}:", f.constant));
            o.indent();
            o.open("");
            self.copy_value(
                o,
                &f.field.ty,
                &format!("other.get{}()", f.acc),
                "this.value_",
                from,
                1,
            );
            o.close();
            o.line("break;");
            o.dedent();
        }
        o.line("default:");
        o.indent();
        o.line("break;");
        o.dedent();
        o.close();
        o.close();
        for f in fields {
            o.blank();
            javadoc(o, f.field.doc.as_deref());
            o.open(&format!(
                "public static {class} {}({} value)",
                f.name, f.jty
            ));
            o.line(&format!("return new {class}().set{}(value);", f.acc));
            o.close();
        }
        o.blank();
        o.line("/** The field that is set, or {@code null}. */");
        o.open("public _Fields getSetField()");
        o.line("return setField_;");
        o.close();
        o.blank();
        o.line("/** The value of the field that is set, or {@code null}. */");
        o.open("public java.lang.Object getFieldValue()");
        o.line("return value_;");
        o.close();
        for f in fields {
            let generic = matches!(
                self.program.true_type(&f.field.ty),
                Type::List(_) | Type::Set(_) | Type::Map(..)
            );
            o.blank();
            o.line(&format!(
                "/** The value of {}; throws {{@code IllegalStateException}} when another field is set. */",
                ident::doc_text(&f.field.name)
            ));
            if generic {
                o.line("@java.lang.SuppressWarnings(\"unchecked\")");
            }
            o.open(&format!("public {} get{}()", f.jty, f.acc));
            o.open(&format!("if (setField_ != _Fields.{})", f.constant));
            o.line(&format!(
                "throw new java.lang.IllegalStateException({} + setField_);",
                ident::string_literal(&format!("{} is not set; the union holds ", f.field.name))
            ));
            o.close();
            o.line(&format!("return ({}) value_;", f.boxed));
            o.close();
            o.blank();
            o.line("/** Makes this field the one that is set. */");
            o.open(&format!("public {class} set{}({} value)", f.acc, f.jty));
            o.line(&format!("this.setField_ = _Fields.{};", f.constant));
            if f.prim {
                o.line("this.value_ = value;");
            } else {
                o.line(&format!(
                    "this.value_ = java.util.Objects.requireNonNull(value, {});",
                    ident::string_literal(&format!("{} == null", f.field.name))
                ));
            }
            o.line("return this;");
            o.close();
            o.blank();
            o.open(&format!("public boolean isSet{}()", f.acc));
            o.line(&format!("return setField_ == _Fields.{};", f.constant));
            o.close();
        }
        o.blank();
        o.line("@java.lang.Override");
        o.open("public _Fields fieldForId(int fieldId)");
        o.line("return _Fields.findByThriftId(fieldId);");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public boolean isSet(_Fields field)");
        o.line("return setField_ == field;");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public java.lang.Object getFieldValue(_Fields field)");
        o.open("if (field != setField_)");
        o.line("throw new java.lang.IllegalStateException(field + \" is not set; the union holds \" + setField_);");
        o.close();
        o.line("return value_;");
        o.close();
        o.blank();
        if fields.iter().any(|f| {
            !f.prim
                && matches!(
                    self.program.true_type(&f.field.ty),
                    Type::List(_) | Type::Set(_) | Type::Map(..)
                )
        }) {
            o.line("@java.lang.SuppressWarnings(\"unchecked\")");
        }
        o.line("@java.lang.Override");
        o.open("public void setFieldValue(_Fields field, java.lang.Object value)");
        o.open("switch (field)");
        for f in fields {
            o.line(&format!("case {}:", f.constant));
            o.indent();
            o.line(&format!("set{}(({}) value);", f.acc, f.boxed));
            o.line("return;");
            o.dedent();
        }
        o.close();
        o.line("throw new java.lang.IllegalArgumentException(\"unknown field \" + field);");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open(&format!("public {class} deepCopy()"));
        o.line(&format!("return new {class}(this);"));
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public void clear()");
        o.line("this.setField_ = null;");
        o.line("this.value_ = null;");
        o.close();
        o.blank();
        o.line("/** Reads a value; a union with no known field reads as one with no field set. */");
        o.line("@java.lang.Override");
        o.open("public void read(org.apache.thrift.protocol.TProtocol iprot) throws org.apache.thrift.TException");
        o.line("clear();");
        o.line("iprot.readStructBegin();");
        o.open("while (true)");
        o.line("org.apache.thrift.protocol.TField _field = iprot.readFieldBegin();");
        o.open("if (_field.type == org.apache.thrift.protocol.TType.STOP)");
        o.line("break;");
        o.close();
        o.open("switch (_field.id)");
        for f in fields {
            o.line(&format!("case {}:", f.field.id));
            o.indent();
            o.open(&format!("if (_field.type == {})", self.ttype(&f.field.ty)));
            if self.is_container(&f.field.ty) {
                o.line(&format!("{} _value = null;", f.jty));
                self.read_value(o, &f.field.ty, "_value", from, 1);
                o.open("if (_value != null)");
                o.line(&format!("set{}(_value);", f.acc));
                o.close();
            } else {
                o.line(&format!("{} _value;", f.jty));
                self.read_value(o, &f.field.ty, "_value", from, 1);
                o.line(&format!("set{}(_value);", f.acc));
            }
            o.reopen("else");
            o.line("org.apache.thrift.protocol.TProtocolUtil.skip(iprot, _field.type);");
            o.close();
            o.line("break;");
            o.dedent();
        }
        o.line("default:");
        o.indent();
        o.line("org.apache.thrift.protocol.TProtocolUtil.skip(iprot, _field.type);");
        o.dedent();
        o.close();
        o.line("iprot.readFieldEnd();");
        o.close();
        o.line("iprot.readStructEnd();");
        o.close();
        o.blank();
        o.line("/** Writes the field that is set; a union with none cannot be written. */");
        o.line("@java.lang.Override");
        o.open("public void write(org.apache.thrift.protocol.TProtocol oprot) throws org.apache.thrift.TException");
        o.open("if (setField_ == null)");
        o.line(&format!(
            "throw new org.apache.thrift.protocol.TProtocolException({});",
            ident::string_literal(&format!("union {} has no field set", s.name))
        ));
        o.close();
        o.line("oprot.writeStructBegin(STRUCT_DESC);");
        o.open("switch (setField_)");
        for f in fields {
            o.line(&format!("case {}:", f.constant));
            o.indent();
            o.line(&format!("oprot.writeFieldBegin({});", f.desc));
            self.write_value(o, &f.field.ty, &format!("get{}()", f.acc), from, 1);
            o.line("oprot.writeFieldEnd();");
            o.line("break;");
            o.dedent();
        }
        o.close();
        o.line("oprot.writeFieldStop();");
        o.line("oprot.writeStructEnd();");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public boolean equals(java.lang.Object that)");
        o.line(&format!(
            "return that instanceof {class} && setField_ == (({class}) that).setField_ && java.util.Objects.equals(value_, (({class}) that).value_);"
        ));
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public int hashCode()");
        o.line("return setField_ == null ? 0 : setField_.getThriftFieldId() * 8191 + value_.hashCode();");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open(&format!("public int compareTo({class} other)"));
        o.line("int a = setField_ == null ? java.lang.Integer.MIN_VALUE : setField_.getThriftFieldId();");
        o.line("int b = other.setField_ == null ? java.lang.Integer.MIN_VALUE : other.setField_.getThriftFieldId();");
        o.open("if (a != b || setField_ == null)");
        o.line("return java.lang.Integer.compare(a, b);");
        o.close();
        o.line("return org.apache.thrift.TBaseHelper.compareTo(value_, other.value_);");
        o.close();
        o.blank();
        o.line("@java.lang.Override");
        o.open("public java.lang.String toString()");
        o.line(&format!(
            "java.lang.StringBuilder sb = new java.lang.StringBuilder({});",
            ident::string_literal(&format!("{}(", s.name))
        ));
        o.open("if (setField_ != null)");
        o.line("sb.append(setField_.getFieldName()).append(':');");
        o.open("if (value_ instanceof java.nio.ByteBuffer)");
        o.line("org.apache.thrift.TBaseHelper.toString((java.nio.ByteBuffer) value_, sb);");
        o.reopen("else");
        o.line("sb.append(value_);");
        o.close();
        o.close();
        o.line("return sb.append(')').toString();");
        o.close();
    }
}

/// The nested builder class: `Builder`, or `Builder_` in a struct that is itself `Builder`.
fn builder_name(class: &str) -> &'static str {
    if class == "Builder" {
        "Builder_"
    } else {
        "Builder"
    }
}
