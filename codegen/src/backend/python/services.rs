//! Service modules: `Iface` (the handler interface), `Client`, `Processor`, and the
//! `<method>_args`/`<method>_result` classes they exchange, as Apache names them.

use std::collections::BTreeSet;

use crate::ir::{Function, ServiceId, Type};

use super::ident;
use super::structs::{PyField, PyStruct};
use super::text::{string_literal, Expr, Out};
use super::Cx;

/// The imports of a service module.
const SERVICE_IMPORTS: &[&str] = &[
    "import enum",
    "import logging",
    "import uuid",
    "from collections.abc import Callable",
    "from typing import Any, ClassVar, TypeAlias, cast",
    "",
    "from thrift.protocol.TProtocol import TProtocolBase, TProtocolException",
    "from thrift.Thrift import (",
    "    TApplicationException,",
    "    TException,",
    "    TFrozenDict,",
    "    TMessageType,",
    "    TProcessor,",
    "    TType,",
    ")",
    "from thrift.transport import TTransport",
    "from thrift.TRecursive import fix_spec",
    "from .ttypes import *",
];

impl Cx<'_> {
    /// The Python name of a method.
    fn method_name(f: &Function) -> String {
        ident::keyword(&f.name)
    }

    fn args_of(f: &Function) -> Vec<String> {
        f.args.iter().map(|a| ident::argument(&a.name)).collect()
    }

    /// The names the service's classes define, which shadow types in their signatures.
    fn method_names(&self, id: ServiceId) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for f in &self.program.service(id).functions {
            let name = Self::method_name(f);
            names.insert(format!("send_{name}"));
            names.insert(format!("recv_{name}"));
            names.insert(format!("process_{name}"));
            names.insert(name);
        }
        names.extend(["process", "on_message_begin"].map(String::from));
        names
    }

    fn params(&self, f: &Function, shadow: &BTreeSet<String>) -> Vec<Expr> {
        let mut params = vec![Expr::atom("self")];
        for a in &f.args {
            let name = ident::argument(&a.name);
            let hint = self.short_hint(&name, self.hint(&a.ty, false));
            params.push(Expr::atom(format!(
                "{name}: {}",
                self.unshadow(&hint, shadow)
            )));
        }
        params
    }

    fn returns(&self, f: &Function, shadow: &BTreeSet<String>) -> String {
        match &f.returns {
            Some(ty) if !f.oneway => {
                let hint = self.short_hint(&f.name, self.hint(ty, false));
                self.unshadow(&hint, shadow)
            }
            _ => "None".into(),
        }
    }

    /// The module of service `id`.
    pub(crate) fn service_module(&self, id: ServiceId) -> String {
        let s = self.program.service(id);
        let base = s.extends.map(|b| {
            let bs = self.program.service(b);
            let module = format!("{}.{}", self.import_path(bs.file), self.service_name(b));
            self.extra_imports
                .borrow_mut()
                .insert(format!("import {module}"));
            module
        });
        let mut blocks = Vec::new();
        blocks.push(self.iface(id, base.as_deref()));
        blocks.push(self.client(id, base.as_deref()));
        blocks.push(self.processor(id, base.as_deref()));
        let helpers = self.helper_structs(id);
        for h in &helpers {
            let mut out = Out::default();
            self.class(&mut out, h);
            blocks.push(out.finish());
        }
        let mut tail = Out::default();
        tail.line(0, "all_structs: list[Any] = []");
        for h in &helpers {
            self.spec(&mut tail, h);
        }
        tail.line(0, "fix_spec(all_structs)");
        tail.line(0, "del all_structs");
        blocks.push(tail.finish());
        let body = format!("\n\n{}", blocks.join("\n\n"));
        self.module(s.doc.as_deref(), SERVICE_IMPORTS, &body)
    }

    fn iface(&self, id: ServiceId, base: Option<&str>) -> String {
        let s = self.program.service(id);
        let shadow = self.method_names(id);
        let mut out = Out::default();
        match base {
            Some(b) => out.line(0, &format!("class Iface({b}.Iface):")),
            None => out.line(0, "class Iface:"),
        }
        let doc = s.doc.clone().unwrap_or_else(|| {
            format!(
                "The handler interface of `{}`: a server implements these methods.",
                s.name
            )
        });
        out.docstring(1, &doc);
        for f in &s.functions {
            out.blank();
            out.expr(
                1,
                "def ",
                &Expr::call(&Self::method_name(f), self.params(f, &shadow)),
                &format!(" -> {}:", self.returns(f, &shadow)),
            );
            if let Some(doc) = f.doc.as_deref() {
                out.docstring(2, doc);
            }
            out.line(2, "raise NotImplementedError");
        }
        out.finish()
    }

    fn client(&self, id: ServiceId, base: Option<&str>) -> String {
        let s = self.program.service(id);
        let shadow = self.method_names(id);
        let mut out = Out::default();
        match base {
            Some(b) => out.line(0, &format!("class Client({b}.Client, Iface):")),
            None => out.line(0, "class Client(Iface):"),
        }
        out.docstring(
            1,
            &format!(
                "A blocking client of `{}`: one call at a time over the protocols given.",
                s.name
            ),
        );
        out.blank();
        out.expr(
            1,
            "def ",
            &Expr::call(
                "__init__",
                vec![
                    Expr::atom("self"),
                    Expr::atom("iprot: TProtocolBase"),
                    Expr::atom("oprot: TProtocolBase | None = None"),
                ],
            ),
            " -> None:",
        );
        match base {
            Some(b) => out.line(2, &format!("{b}.Client.__init__(self, iprot, oprot)")),
            None => {
                out.line(2, "self._iprot = self._oprot = iprot");
                out.line(2, "if oprot is not None:");
                out.line(3, "self._oprot = oprot");
                out.line(2, "self._seqid = 0");
            }
        }
        for f in &s.functions {
            let name = Self::method_name(f);
            let args = Self::args_of(f).join(", ");
            out.blank();
            out.expr(
                1,
                "def ",
                &Expr::call(&name, self.params(f, &shadow)),
                &format!(" -> {}:", self.returns(f, &shadow)),
            );
            if let Some(doc) = f.doc.as_deref() {
                out.docstring(2, doc);
            }
            out.line(2, &format!("self.send_{name}({args})"));
            if !f.oneway {
                if f.returns.is_some() {
                    out.line(2, &format!("return self.recv_{name}()"));
                } else {
                    out.line(2, &format!("self.recv_{name}()"));
                }
            }
            out.blank();
            out.expr(
                1,
                "def ",
                &Expr::call(&format!("send_{name}"), self.params(f, &shadow)),
                " -> None:",
            );
            let kind = if f.oneway { "ONEWAY" } else { "CALL" };
            out.expr(
                2,
                "",
                &Expr::call(
                    "self._oprot.writeMessageBegin",
                    vec![
                        Expr::atom(string_literal(&f.name)),
                        Expr::atom(format!("TMessageType.{kind}")),
                        Expr::atom("self._seqid"),
                    ],
                ),
                "",
            );
            out.line(
                2,
                &format!("args = {}()", ident::global(&format!("{}_args", f.name))),
            );
            for a in Self::args_of(f) {
                out.line(2, &format!("args.{a} = {a}"));
            }
            out.line(2, "args.write(self._oprot)");
            out.line(2, "self._oprot.writeMessageEnd()");
            out.line(2, "self._oprot.trans.flush()");
            if f.oneway {
                continue;
            }
            out.blank();
            out.line(
                1,
                &format!("def recv_{name}(self) -> {}:", self.returns(f, &shadow)),
            );
            out.line(2, "iprot = self._iprot");
            out.line(2, "_, mtype, _ = iprot.readMessageBegin()");
            out.line(2, "if mtype == TMessageType.EXCEPTION:");
            out.line(3, "x = TApplicationException()");
            out.line(3, "x.read(iprot)");
            out.line(3, "iprot.readMessageEnd()");
            out.line(3, "raise x");
            out.line(
                2,
                &format!(
                    "result = {}()",
                    ident::global(&format!("{}_result", f.name))
                ),
            );
            out.line(2, "result.read(iprot)");
            out.line(2, "iprot.readMessageEnd()");
            if f.returns.is_some() {
                out.line(2, "if result.success is not None:");
                out.line(3, "return result.success");
            }
            for t in &f.throws {
                let t = ident::field(&t.name);
                out.line(2, &format!("if result.{t} is not None:"));
                out.line(3, &format!("raise result.{t}"));
            }
            if f.returns.is_some() {
                let message = format!("{} failed: unknown result", f.name);
                out.expr(
                    2,
                    "raise ",
                    &Expr::call(
                        "TApplicationException",
                        vec![
                            Expr::atom("TApplicationException.MISSING_RESULT"),
                            Expr::atom(string_literal(&message)),
                        ],
                    ),
                    "",
                );
            } else if f.throws.is_empty() {
                out.line(2, "return");
            }
        }
        out.finish()
    }

    fn processor(&self, id: ServiceId, base: Option<&str>) -> String {
        let s = self.program.service(id);
        let mut out = Out::default();
        match base {
            Some(b) => out.line(
                0,
                &format!("class Processor({b}.Processor, Iface, TProcessor):"),
            ),
            None => out.line(0, "class Processor(Iface, TProcessor):"),
        }
        out.docstring(
            1,
            &format!(
                "Serves `{}`: reads a call, runs the handler's method, writes the reply.",
                s.name
            ),
        );
        out.blank();
        out.line(1, "_handler: Iface");
        out.blank();
        out.line(1, "def __init__(self, handler: Iface) -> None:");
        match base {
            Some(b) => out.line(2, &format!("{b}.Processor.__init__(self, handler)")),
            None => {
                out.line(2, "self._handler = handler");
                out.line(2, "self._processMap: dict[str, Callable[..., None]] = {}");
            }
        }
        for f in &s.functions {
            out.expr(
                2,
                &format!("self._processMap[{}] = ", string_literal(&f.name)),
                &Expr::atom(format!("Processor.process_{}", Self::method_name(f))),
                "",
            );
        }
        if base.is_none() {
            out.line(
                2,
                "self._on_message_begin: Callable[[str, int, int], None] | None = None",
            );
            out.blank();
            out.line(
                1,
                "def on_message_begin(self, func: Callable[[str, int, int], None]) -> None:",
            );
            out.line(2, "self._on_message_begin = func");
            out.blank();
            out.line(
                1,
                "def process(self, iprot: TProtocolBase, oprot: TProtocolBase) -> bool | None:",
            );
            out.line(2, "name, mtype, seqid = iprot.readMessageBegin()");
            out.line(2, "if self._on_message_begin:");
            out.line(3, "self._on_message_begin(name, mtype, seqid)");
            out.line(2, "if name not in self._processMap:");
            out.line(3, "iprot.skip(TType.STRUCT)");
            out.line(3, "iprot.readMessageEnd()");
            out.line(3, "x = TApplicationException(");
            out.line(
                4,
                "TApplicationException.UNKNOWN_METHOD, f\"Unknown function {name}\"",
            );
            out.line(3, ")");
            out.line(
                3,
                "oprot.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)",
            );
            out.line(3, "x.write(oprot)");
            out.line(3, "oprot.writeMessageEnd()");
            out.line(3, "oprot.trans.flush()");
            out.line(3, "return None");
            out.line(2, "self._processMap[name](self, seqid, iprot, oprot)");
            out.line(2, "return True");
        }
        for f in &s.functions {
            out.blank();
            self.process_method(&mut out, f);
        }
        out.finish()
    }

    fn process_method(&self, out: &mut Out, f: &Function) {
        let name = Self::method_name(f);
        out.expr(
            1,
            "def ",
            &Expr::call(
                &format!("process_{name}"),
                vec![
                    Expr::atom("self"),
                    Expr::atom("seqid: int"),
                    Expr::atom("iprot: TProtocolBase"),
                    Expr::atom("oprot: TProtocolBase"),
                ],
            ),
            " -> None:",
        );
        out.line(
            2,
            &format!("args = {}()", ident::global(&format!("{}_args", f.name))),
        );
        out.line(2, "args.read(iprot)");
        out.line(2, "iprot.readMessageEnd()");
        // A missing argument arrives as None, as with Apache's generated code.
        let call_args: Vec<Expr> = f
            .args
            .iter()
            .map(|a| {
                let name = ident::argument(&a.name);
                let hint = self.short_hint(&name, self.hint(&a.ty, false));
                Expr::call(
                    "cast",
                    vec![
                        Expr::atom(string_literal(&hint)),
                        Expr::atom(format!("args.{name}")),
                    ],
                )
            })
            .collect();
        let call = Expr::call(&format!("self._handler.{name}"), call_args);
        if f.oneway {
            out.line(2, "try:");
            out.expr(3, "", &call, "");
            out.line(2, "except TTransport.TTransportException:");
            out.line(3, "raise");
            out.line(2, "except Exception:");
            out.line(3, "logging.exception(\"Exception in oneway handler\")");
            return;
        }
        out.line(
            2,
            &format!(
                "result = {}()",
                ident::global(&format!("{}_result", f.name))
            ),
        );
        out.line(2, "reply: Any = result");
        out.line(2, "try:");
        if f.returns.is_some() {
            out.expr(3, "result.success = ", &call, "");
        } else {
            out.expr(3, "", &call, "");
        }
        out.line(3, "msg_type = TMessageType.REPLY");
        out.line(2, "except TTransport.TTransportException:");
        out.line(3, "raise");
        for t in &f.throws {
            let class = self.hint(&t.ty, false);
            let field = ident::field(&t.name);
            out.line(2, &format!("except {class} as _error:"));
            out.line(3, "msg_type = TMessageType.REPLY");
            out.line(3, &format!("result.{field} = _error"));
        }
        out.line(2, "except TApplicationException as ex:");
        out.line(
            3,
            "logging.exception(\"TApplication exception in handler\")",
        );
        out.line(3, "msg_type = TMessageType.EXCEPTION");
        out.line(3, "reply = ex");
        out.line(2, "except Exception:");
        out.line(3, "logging.exception(\"Unexpected exception in handler\")");
        out.line(3, "msg_type = TMessageType.EXCEPTION");
        out.line(3, "reply = TApplicationException(");
        out.line(
            4,
            "TApplicationException.INTERNAL_ERROR, \"Internal error\"",
        );
        out.line(3, ")");
        let begin = Expr::call(
            "oprot.writeMessageBegin",
            vec![
                Expr::atom(string_literal(&f.name)),
                Expr::atom("msg_type"),
                Expr::atom("seqid"),
            ],
        );
        out.expr(2, "", &begin, "");
        out.line(2, "reply.write(oprot)");
        out.line(2, "oprot.writeMessageEnd()");
        out.line(2, "oprot.trans.flush()");
    }

    /// `<method>_args` and (for two-way methods) `<method>_result` for each method.
    fn helper_structs(&self, id: ServiceId) -> Vec<PyStruct<'_>> {
        let s = self.program.service(id);
        let mut helpers = Vec::new();
        for f in &s.functions {
            helpers.push(PyStruct {
                name: ident::global(&format!("{}_args", f.name)),
                wire: format!("{}_args", f.name),
                doc: None,
                fields: f
                    .args
                    .iter()
                    .map(|a| PyField::from_ir(a, ident::argument(&a.name)))
                    .collect(),
                exception: false,
                immutable: false,
            });
            if f.oneway {
                continue;
            }
            let mut fields = Vec::new();
            if let Some(ty) = &f.returns {
                fields.push(success_field(ty));
            }
            fields.extend(f.throws.iter().map(|t| PyField {
                required: false,
                ..PyField::from_ir(t, ident::field(&t.name))
            }));
            helpers.push(PyStruct {
                name: ident::global(&format!("{}_result", f.name)),
                wire: format!("{}_result", f.name),
                doc: None,
                fields,
                exception: false,
                immutable: false,
            });
        }
        helpers
    }
}

fn success_field(ty: &Type) -> PyField<'_> {
    PyField {
        name: "success".into(),
        wire: "success",
        id: 0,
        ty,
        required: false,
        default: None,
        doc: None,
        frozen: false,
    }
}
