//! The Rust name of every definition, field, method and generated item, decided once for the
//! whole program so that every reference agrees with every declaration.
//!
//! Each IDL file is one module; within it one [`Allocator`] covers every module-level name
//! (types and values together, a little stricter than Rust, and simpler): user definitions
//! first in declaration order, then the names generated for services. `Some`, `None`, `Ok`,
//! `Err` and `LazyLock` are never given to user types: generated code uses them unqualified.

use crate::ir::{self, Definition, Program};

use super::ident::{camel, screaming, snake, unraw, verbatim, Allocator};

/// Names no module-level item may take: generated code uses these unqualified (`LazyLock` is
/// imported by files with `static` constants).
const MODULE_RESERVED: &[&str] = &["Some", "None", "Ok", "Err", "LazyLock"];

/// Enum values become associated constants next to these generated functions.
const ENUM_RESERVED: &[&str] = &["name", "from_name"];

/// Every union has this variant for a member a newer peer sent (see `structs.rs`); a member
/// of that name is renamed.
pub(crate) const UNION_UNKNOWN: &str = "Unknown";

/// Client and dispatcher constructors share a namespace with methods.
const METHOD_RESERVED: &[&str] = &["new", "multiplexed", "from_arc"];

#[derive(Debug)]
pub(crate) struct Names {
    /// Per file: the module name (escaped) and the output file name.
    pub modules: Vec<String>,
    pub structs: Vec<StructNames>,
    pub enums: Vec<EnumNames>,
    pub typedefs: Vec<String>,
    pub consts: Vec<String>,
    pub services: Vec<ServiceNames>,
}

#[derive(Debug)]
pub(crate) struct StructNames {
    pub name: String,
    /// Field names (snake case) for structs and exceptions; variant names for unions.
    pub members: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct EnumNames {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct ServiceNames {
    /// The handler trait.
    pub trait_: String,
    /// The dispatcher (`Service` implementation).
    pub server: String,
    pub client: String,
    /// The hidden module of argument and result structs.
    pub module: String,
    /// Per function declared in this service (not inherited ones).
    pub functions: Vec<FunctionNames>,
}

#[derive(Debug)]
pub(crate) struct FunctionNames {
    pub method: String,
    pub args: String,
    pub result: String,
    /// Argument field names (also the method's parameter names).
    pub arg_fields: Vec<String>,
    /// Result struct field names: `success`, then one per `throws` entry.
    pub success: String,
    pub throws_fields: Vec<String>,
    /// The per-method error enum and its variants, when the function declares exceptions.
    pub error: Option<String>,
    pub error_variants: Vec<String>,
}

impl Names {
    pub(crate) fn new(program: &Program) -> Self {
        let mut module_alloc = Allocator::default();
        let modules = program
            .files
            .iter()
            .map(|f| module_alloc.take(&snake(&f.name)))
            .collect();

        let mut names = Names {
            modules,
            structs: program
                .structs
                .iter()
                .map(|s| StructNames {
                    name: String::new(),
                    members: member_names(s),
                })
                .collect(),
            enums: program
                .enums
                .iter()
                .map(|e| {
                    let mut alloc = Allocator::with_reserved(ENUM_RESERVED);
                    EnumNames {
                        name: String::new(),
                        values: e
                            .values
                            .iter()
                            .map(|v| alloc.take(&verbatim(&v.name)))
                            .collect(),
                    }
                })
                .collect(),
            typedefs: vec![String::new(); program.typedefs.len()],
            consts: vec![String::new(); program.consts.len()],
            services: Vec::with_capacity(program.services.len()),
        };

        // Module-level names, file by file: user definitions first, then generated ones.
        let mut traits = vec![String::new(); program.services.len()];
        let mut allocs: Vec<Allocator> = program
            .files
            .iter()
            .map(|file| {
                let mut alloc = Allocator::with_reserved(MODULE_RESERVED);
                for def in &file.definitions {
                    match *def {
                        Definition::Struct(id) => {
                            names.structs[id.index()].name =
                                alloc.take(&camel(&program.struct_(id).name));
                        }
                        Definition::Enum(id) => {
                            names.enums[id.index()].name =
                                alloc.take(&camel(&program.enum_(id).name));
                        }
                        Definition::Typedef(id) => {
                            names.typedefs[id.index()] =
                                alloc.take(&camel(&program.typedef(id).name));
                        }
                        Definition::Const(id) => {
                            names.consts[id.index()] =
                                alloc.take(&screaming(&program.const_(id).name));
                        }
                        Definition::Service(id) => {
                            traits[id.index()] = alloc.take(&camel(&program.service(id).name));
                        }
                    }
                }
                alloc
            })
            .collect();

        let methods = method_names(program);
        for (service, trait_) in program.services.iter().zip(traits) {
            let alloc = &mut allocs[service.file.index()];
            let named = service_names(service, trait_, &methods[service.id.index()], alloc);
            names.services.push(named);
        }
        names
    }

    pub(crate) fn struct_(&self, id: ir::StructId) -> &StructNames {
        &self.structs[id.index()]
    }

    pub(crate) fn enum_(&self, id: ir::EnumId) -> &EnumNames {
        &self.enums[id.index()]
    }

    pub(crate) fn service(&self, id: ir::ServiceId) -> &ServiceNames {
        &self.services[id.index()]
    }

    /// The output file name of a module: `thrift_test.rs`, `type.rs` for `r#type`.
    pub(crate) fn file_name(&self, file: ir::FileId) -> String {
        format!("{}.rs", unraw(&self.modules[file.index()]))
    }
}

fn member_names(s: &ir::Struct) -> Vec<String> {
    let mut alloc = match s.kind {
        ir::StructKind::Union => Allocator::with_reserved(&[UNION_UNKNOWN]),
        _ => Allocator::default(),
    };
    s.fields
        .iter()
        .map(|f| match s.kind {
            ir::StructKind::Union => alloc.take(&camel(&f.name)),
            _ => alloc.take(&snake(&f.name)),
        })
        .collect()
}

/// Method names per service: its own functions' names avoid the constructors and every
/// inherited method (the client offers them all as inherent methods).
fn method_names(program: &Program) -> Vec<Vec<String>> {
    fn visit(
        program: &Program,
        id: ir::ServiceId,
        out: &mut Vec<Option<Vec<String>>>,
        depth: usize,
    ) {
        if out[id.index()].is_some() {
            return;
        }
        let service = program.service(id);
        let mut alloc = Allocator::with_reserved(METHOD_RESERVED);
        // Resolution rejects `extends` cycles; the depth bound keeps this total regardless.
        if let Some(parent) = service.extends.filter(|_| depth <= program.services.len()) {
            visit(program, parent, out, depth + 1);
            for (owner, f) in program.all_functions(parent) {
                let owner_fns = &program.service(owner).functions;
                let position = owner_fns.iter().position(|g| std::ptr::eq(g, f));
                if let (Some(i), Some(Some(taken))) = (position, out.get(owner.index())) {
                    if let Some(name) = taken.get(i) {
                        let _ = alloc.take(unraw(name));
                    }
                }
            }
        }
        let own = service
            .functions
            .iter()
            .map(|f| alloc.take(&snake(&f.name)))
            .collect();
        out[id.index()] = Some(own);
    }
    let mut out = vec![None; program.services.len()];
    for s in &program.services {
        visit(program, s.id, &mut out, 0);
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

fn service_names(
    service: &ir::Service,
    trait_: String,
    methods: &[String],
    alloc: &mut Allocator,
) -> ServiceNames {
    let base = unraw(&trait_).to_string();
    let server = alloc.take(&format!("{base}Service"));
    let client = alloc.take(&format!("{base}Client"));
    let module = alloc.take(&format!("__{}", snake(&service.name)));

    let mut structs = Allocator::default();
    let functions = service
        .functions
        .iter()
        .zip(methods)
        .map(|(f, method)| {
            let camel_name = camel(&f.name);
            let mut arg_alloc = Allocator::default();
            let mut result_alloc = Allocator::default();
            let success = result_alloc.take("success");
            let mut variants = Allocator::with_reserved(&["Other"]);
            let error = if f.throws.is_empty() || f.oneway {
                None
            } else {
                Some(alloc.take(&format!("{camel_name}Error")))
            };
            FunctionNames {
                method: method.clone(),
                args: structs.take(&format!("{camel_name}Args")),
                result: structs.take(&format!("{camel_name}Result")),
                arg_fields: f
                    .args
                    .iter()
                    .map(|a| arg_alloc.take(&snake(&a.name)))
                    .collect(),
                success,
                throws_fields: f
                    .throws
                    .iter()
                    .map(|t| result_alloc.take(&snake(&t.name)))
                    .collect(),
                error,
                error_variants: f
                    .throws
                    .iter()
                    .map(|t| variants.take(&camel(&t.name)))
                    .collect(),
            }
        })
        .collect();
    ServiceNames {
        trait_,
        server,
        client,
        module,
        functions,
    }
}
