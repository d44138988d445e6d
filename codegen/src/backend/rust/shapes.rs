//! Whole-program facts that decide the Rust shape of each type: which fields are boxed, which
//! types must be ordered, and which traits can be derived.
//!
//! - **Boxing.** A struct field (or union variant) whose type leads back to its own struct
//!   through direct struct references (not through containers, which already allocate) is
//!   boxed, so that every type has a finite size.
//! - **Order.** `BTreeSet` elements and `BTreeMap` keys need `Ord`. Every struct and enum
//!   reachable from a set element or map key type is *ordered*: it derives `PartialOrd, Ord`
//!   when its fields allow, or implements them by hand through `TotalOrd` (for `f64` fields).
//! - **Capabilities.** `Eq` and `Hash` are derived when every field has them. These are
//!   greatest fixpoints, so recursive types get them too.

use std::collections::BTreeSet;

use crate::ir::{self, EnumId, Program, Requiredness, StructId, StructKind, Type};

/// How a member is stored in its Rust struct or enum variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repr {
    /// `T`: required fields, and the arguments of service methods.
    Plain,
    /// `Option<T>`: optional and default-requiredness fields (which keep presence), and
    /// required fields without a `Default` (unions).
    Option,
    /// `Option<Box<T>>`: fields that recurse.
    OptionBox,
    /// `Box<T>`: union variants that recurse.
    Box,
}

impl Repr {
    pub(crate) fn is_option(self) -> bool {
        matches!(self, Repr::Option | Repr::OptionBox)
    }

    pub(crate) fn is_boxed(self) -> bool {
        matches!(self, Repr::OptionBox | Repr::Box)
    }
}

/// What can be derived for a struct, union or exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Caps {
    pub eq: bool,
    pub hash: bool,
}

/// The facts for one program.
#[derive(Debug)]
pub(crate) struct Shapes {
    /// Per struct, per field: whether the field recurses.
    boxed: Vec<Vec<bool>>,
    ordered_structs: BTreeSet<StructId>,
    ordered_enums: BTreeSet<EnumId>,
    caps: Vec<Caps>,
}

impl Shapes {
    pub(crate) fn new(program: &Program) -> Self {
        let boxed = boxing(program);
        let (ordered_structs, ordered_enums) = ordered(program);
        let mut shapes = Shapes {
            boxed,
            ordered_structs,
            ordered_enums,
            caps: Vec::new(),
        };
        shapes.caps = capabilities(program, &shapes);
        shapes
    }

    /// How field `index` of struct `id` is stored.
    pub(crate) fn field_repr(&self, program: &Program, id: StructId, index: usize) -> Repr {
        let s = program.struct_(id);
        let boxed = self.boxed[id.index()][index];
        if s.kind == StructKind::Union {
            return if boxed { Repr::Box } else { Repr::Plain };
        }
        let field = &s.fields[index];
        if boxed {
            Repr::OptionBox
        } else if field.requiredness == Requiredness::Required && !is_union(program, &field.ty) {
            Repr::Plain
        } else {
            Repr::Option
        }
    }

    pub(crate) fn is_ordered(&self, id: StructId) -> bool {
        self.ordered_structs.contains(&id)
    }

    pub(crate) fn is_ordered_enum(&self, id: EnumId) -> bool {
        self.ordered_enums.contains(&id)
    }

    pub(crate) fn caps(&self, id: StructId) -> Caps {
        self.caps[id.index()]
    }

    /// Whether an ordered struct can derive `PartialOrd, Ord` (no raw `f64` in its fields).
    pub(crate) fn derives_ord(&self, program: &Program, id: StructId) -> bool {
        program
            .struct_(id)
            .fields
            .iter()
            .all(|f| !has_raw_double(program, &f.ty, false))
    }
}

/// Whether `ty` is a union (which has no `Default`, so fields of it are `Option`s).
pub(crate) fn is_union(program: &Program, ty: &Type) -> bool {
    matches!(program.true_type(ty), Type::Struct(id) if program.struct_(*id).kind == StructKind::Union)
}

/// Whether `ty`, rendered with `key` context, holds an `f64` outside any struct: doubles in
/// set elements and map keys are `OrderedF64`, elsewhere `f64`.
pub(crate) fn has_raw_double(program: &Program, ty: &Type, key: bool) -> bool {
    match program.true_type(ty) {
        Type::Double => !key,
        Type::List(e) => has_raw_double(program, e, key),
        Type::Set(e) => has_raw_double(program, e, true),
        Type::Map(k, v) => has_raw_double(program, k, true) || has_raw_double(program, v, key),
        _ => false,
    }
}

/// The struct a type names directly (through typedefs, not containers).
fn direct_struct(program: &Program, ty: &Type) -> Option<StructId> {
    match program.true_type(ty) {
        Type::Struct(id) => Some(*id),
        _ => None,
    }
}

fn boxing(program: &Program) -> Vec<Vec<bool>> {
    // reach[s]: structs reachable from s through direct struct fields.
    let n = program.structs.len();
    let edges: Vec<Vec<StructId>> = program
        .structs
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .filter_map(|f| direct_struct(program, &f.ty))
                .collect()
        })
        .collect();
    let reach: Vec<BTreeSet<StructId>> = (0..n)
        .map(|start| {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<StructId> = edges[start].clone();
            while let Some(s) = stack.pop() {
                if seen.insert(s) {
                    stack.extend(edges[s.index()].iter().copied());
                }
            }
            seen
        })
        .collect();
    program
        .structs
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .map(|f| match direct_struct(program, &f.ty) {
                    Some(t) => reach[t.index()].contains(&s.id),
                    None => false,
                })
                .collect()
        })
        .collect()
}

/// Every type written anywhere in the program, for the search of set elements and map keys.
fn all_types(program: &Program) -> Vec<&Type> {
    let mut out: Vec<&Type> = Vec::new();
    for s in &program.structs {
        out.extend(s.fields.iter().map(|f| &f.ty));
    }
    out.extend(program.typedefs.iter().map(|t| &t.target));
    out.extend(program.consts.iter().map(|c| &c.ty));
    for svc in &program.services {
        for f in &svc.functions {
            out.extend(f.returns.iter());
            out.extend(f.args.iter().chain(&f.throws).map(|a| &a.ty));
        }
    }
    out
}

fn ordered(program: &Program) -> (BTreeSet<StructId>, BTreeSet<EnumId>) {
    struct Walk<'a> {
        program: &'a Program,
        structs: BTreeSet<StructId>,
        enums: BTreeSet<EnumId>,
    }
    impl Walk<'_> {
        /// Finds key positions inside `ty` (not following struct fields: those are seeds
        /// of their own in `all_types`).
        fn seeds(&mut self, ty: &Type) {
            match ty {
                Type::List(e) => self.seeds(e),
                Type::Set(e) => self.mark(e),
                Type::Map(k, v) => {
                    self.mark(k);
                    self.seeds(v);
                }
                _ => {}
            }
        }

        /// Marks everything `ty` contains as ordered.
        fn mark(&mut self, ty: &Type) {
            match ty {
                Type::List(e) | Type::Set(e) => self.mark(e),
                Type::Map(k, v) => {
                    self.mark(k);
                    self.mark(v);
                }
                Type::Enum(id) => {
                    self.enums.insert(*id);
                }
                Type::Struct(id) if self.structs.insert(*id) => {
                    let program = self.program;
                    for f in &program.struct_(*id).fields {
                        self.mark(&f.ty);
                    }
                }
                Type::Typedef(id) => {
                    let program = self.program;
                    self.mark(&program.typedef(*id).target);
                }
                _ => {}
            }
        }
    }
    let mut walk = Walk {
        program,
        structs: BTreeSet::new(),
        enums: BTreeSet::new(),
    };
    for ty in all_types(program) {
        walk.seeds(ty);
    }
    (walk.structs, walk.enums)
}

fn capabilities(program: &Program, shapes: &Shapes) -> Vec<Caps> {
    let mut caps = vec![
        Caps {
            eq: true,
            hash: true
        };
        program.structs.len()
    ];
    // Greatest fixpoint: start from "everything derives" and remove until stable.
    loop {
        let mut changed = false;
        for s in &program.structs {
            let fields = |pick: fn(Caps) -> bool| {
                s.fields
                    .iter()
                    .all(|f| type_has(program, &caps, &f.ty, false, pick))
            };
            let next = Caps {
                eq: shapes.is_ordered(s.id) || fields(|c| c.eq),
                hash: fields(|c| c.hash),
            };
            if next != caps[s.id.index()] {
                caps[s.id.index()] = next;
                changed = true;
            }
        }
        if !changed {
            return caps;
        }
    }
}

/// Whether the Rust type for `ty` has the capability `pick` selects.
fn type_has(
    program: &Program,
    caps: &[Caps],
    ty: &Type,
    key: bool,
    pick: fn(Caps) -> bool,
) -> bool {
    match ty {
        Type::Double => key,
        Type::List(e) => type_has(program, caps, e, key, pick),
        Type::Set(e) => type_has(program, caps, e, true, pick),
        Type::Map(k, v) => {
            type_has(program, caps, k, true, pick) && type_has(program, caps, v, key, pick)
        }
        Type::Struct(id) => pick(caps[id.index()]),
        Type::Typedef(id) => type_has(program, caps, &program.typedef(*id).target, key, pick),
        _ => true,
    }
}

/// Whether a constant is the value `Default::default()` gives its Rust type, so that a plain
/// (not `Option`) member with it as its IDL default can use a derived `Default`.
pub(crate) fn is_zero_value(value: &ir::ConstValue) -> bool {
    match value {
        ir::ConstValue::Bool(b) => !b,
        ir::ConstValue::Int(i) => *i == 0,
        ir::ConstValue::Double(d) => d.to_bits() == 0,
        ir::ConstValue::String(s) => s.is_empty(),
        ir::ConstValue::Uuid(u) => u.iter().all(|b| *b == 0),
        ir::ConstValue::Enum(_, v) => *v == 0,
        ir::ConstValue::List(v) | ir::ConstValue::Set(v) => v.is_empty(),
        ir::ConstValue::Map(m) => m.is_empty(),
        ir::ConstValue::Struct(..) => false,
    }
}
