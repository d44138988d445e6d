//! Services: one class per service holding its interfaces, clients, and the argument and
//! result structs of its methods.
//!
//! - `Iface`: the methods, blocking; `AsyncIface`: the same returning `CompletableFuture`s.
//! - `Client`: on libthrift's `TServiceClient`, one call at a time, like Apache's.
//! - `AsyncClient`: many calls in flight on one connection. Calls are written as they come
//!   (under a lock, so messages never interleave); a daemon reader thread reads replies and
//!   completes each call's future by sequence id. A call times out on its own
//!   (`java.util.concurrent.TimeoutException`), and cancelling its future forgets it; a reply
//!   that arrives later is skipped. When the connection fails, every call in flight fails.
//!
//! A service that `extends` another extends its interfaces and clients. Methods keep their IDL
//! names, escaped by `ident::method`: keywords and the names the clients already use
//! (`close`, `toString`, `getInputProtocol`, ...) get a trailing `_`.

use super::out::Out;
use super::structs::FieldInfo;
use super::{ident, javadoc, Cx};
use crate::ir::{Field, Function, Requiredness, ServiceId, Struct, StructKind};

impl Cx<'_> {
    pub(crate) fn service_class(&self, o: &mut Out, id: ServiceId) {
        let svc = self.program.service(id);
        let pkg = self.package(svc.file);
        let from = pkg.as_deref();
        let class = self.service_class_name(id);
        let base = svc.extends.map(|b| {
            self.class_ref(
                self.program.service(b).file,
                &self.service_class_name(b),
                from,
            )
        });
        javadoc(o, svc.doc.as_deref());
        if svc.doc.is_none() {
            o.line(&format!(
                "/** The IDL service {}: its interfaces and clients. */",
                ident::doc_text(&svc.name)
            ));
        }
        o.open(&format!("public final class {class}"));
        o.line(&format!("private {class}() {{}}"));

        // Iface.
        o.blank();
        o.line("/** The service's methods, blocking. */");
        let ext = |what: &str| match &base {
            Some(b) => format!(" extends {b}.{what}"),
            None => String::new(),
        };
        o.open(&format!("public interface Iface{}", ext("Iface")));
        for (i, f) in svc.functions.iter().enumerate() {
            if i > 0 {
                o.blank();
            }
            javadoc(o, f.doc.as_deref());
            o.line(&format!("{};", self.sync_signature(f, from)));
        }
        o.close();

        // AsyncIface.
        o.blank();
        o.line("/** The service's methods, each returning a future of its reply. */");
        o.open(&format!("public interface AsyncIface{}", ext("AsyncIface")));
        for (i, f) in svc.functions.iter().enumerate() {
            if i > 0 {
                o.blank();
            }
            javadoc(o, f.doc.as_deref());
            o.line(&format!("{};", self.async_signature(f, from)));
        }
        o.close();

        self.sync_client(o, svc.functions.as_slice(), base.as_deref(), from);
        self.async_client(o, svc.functions.as_slice(), base.as_deref(), from);

        // Argument and result structs.
        for f in &svc.functions {
            o.blank();
            let args = self.args_struct(svc.file, f);
            self.struct_body(o, &args, from, "public static final class");
            if !f.oneway {
                o.blank();
                let result = self.result_struct(svc.file, f);
                self.struct_body(o, &result, from, "public static final class");
            }
        }
        o.close();
    }

    fn args_struct(&self, file: crate::ir::FileId, f: &Function) -> Struct {
        Struct {
            id: crate::ir::StructId(u32::MAX),
            file,
            name: format!("{}_args", f.name),
            kind: StructKind::Struct,
            fields: f
                .args
                .iter()
                .map(|a| Field {
                    requiredness: Requiredness::Default,
                    default: None,
                    doc: None,
                    ..a.clone()
                })
                .collect(),
            doc: Some(format!("The arguments of {}.", f.name)),
            annotations: Default::default(),
            span: f.span,
        }
    }

    fn result_struct(&self, file: crate::ir::FileId, f: &Function) -> Struct {
        let mut fields = Vec::new();
        if let Some(ty) = &f.returns {
            fields.push(Field {
                id: 0,
                implicit_id: false,
                name: "success".to_string(),
                ty: ty.clone(),
                requiredness: Requiredness::Optional,
                default: None,
                type_annotations: Default::default(),
                annotations: Default::default(),
                doc: None,
                span: f.span,
            });
        }
        fields.extend(f.throws.iter().map(|t| Field {
            requiredness: Requiredness::Optional,
            default: None,
            doc: None,
            ..t.clone()
        }));
        Struct {
            id: crate::ir::StructId(u32::MAX),
            file,
            name: format!("{}_result", f.name),
            kind: StructKind::Struct,
            fields,
            doc: Some(format!("The reply of {}.", f.name)),
            annotations: Default::default(),
            span: f.span,
        }
    }

    fn params(&self, f: &Function, from: Option<&str>) -> String {
        f.args
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    self.jtype(&a.ty, from, false),
                    ident::escape(&a.name)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn sync_signature(&self, f: &Function, from: Option<&str>) -> String {
        let ret = match &f.returns {
            Some(t) => self.jtype(t, from, false),
            None => "void".to_string(),
        };
        let mut throws: Vec<String> = f
            .throws
            .iter()
            .map(|t| self.jtype(&t.ty, from, false))
            .collect();
        throws.push("org.apache.thrift.TException".to_string());
        format!(
            "{ret} {}({}) throws {}",
            ident::method(&f.name),
            self.params(f, from),
            throws.join(", ")
        )
    }

    fn async_signature(&self, f: &Function, from: Option<&str>) -> String {
        let ret = match &f.returns {
            Some(t) => self.jtype(t, from, true),
            None => "java.lang.Void".to_string(),
        };
        format!(
            "java.util.concurrent.CompletableFuture<{ret}> {}({})",
            ident::method(&f.name),
            self.params(f, from)
        )
    }

    /// `method_args __args = ...; __args.setX(x); ...`
    fn build_args(&self, o: &mut Out, f: &Function, from: Option<&str>) {
        let args = self.args_struct(crate::ir::FileId(0), f);
        let infos: Vec<FieldInfo<'_>> = self.field_infos(&args, from);
        let class = ident::escape(&args.name);
        o.line(&format!("{class} __args = new {class}();"));
        for a in &infos {
            o.line(&format!("__args.set{}({});", a.acc, a.name));
        }
    }

    /// Statements that turn `__result` into the method's return or exception.
    fn unpack_result(&self, o: &mut Out, f: &Function, from: Option<&str>, void_return: &str) {
        let result = self.result_struct(crate::ir::FileId(0), f);
        let infos = self.field_infos(&result, from);
        for (i, r) in infos.iter().enumerate() {
            o.open(&format!("if (__result.isSet{}())", r.acc));
            if i == 0 && f.returns.is_some() {
                o.line(&format!("return __result.get{}();", r.acc));
            } else {
                o.line(&format!("throw __result.get{}();", r.acc));
            }
            o.close();
        }
        match &f.returns {
            Some(_) => o.line(&format!(
                "throw new org.apache.thrift.TApplicationException(org.apache.thrift.TApplicationException.MISSING_RESULT, {});",
                ident::string_literal(&format!("{} failed: unknown result", f.name))
            )),
            None => o.line(void_return),
        }
    }

    fn sync_client(
        &self,
        o: &mut Out,
        functions: &[Function],
        base: Option<&str>,
        from: Option<&str>,
    ) {
        o.blank();
        o.line("/**");
        o.line(" * A blocking client on one connection, one call at a time (not thread safe), as");
        o.line(" * libthrift's {@code TServiceClient}: it works with every Thrift server.");
        o.line(" */");
        let parent = match base {
            Some(b) => format!("{b}.Client"),
            None => "org.apache.thrift.TServiceClient".to_string(),
        };
        o.open(&format!(
            "public static class Client extends {parent} implements Iface"
        ));
        o.line("/** A client that reads and writes with {@code protocol}. */");
        o.open("public Client(org.apache.thrift.protocol.TProtocol protocol)");
        o.line("super(protocol, protocol);");
        o.close();
        o.blank();
        o.line("/** A client that reads replies with {@code input} and writes calls with {@code output}. */");
        o.open("public Client(org.apache.thrift.protocol.TProtocol input, org.apache.thrift.protocol.TProtocol output)");
        o.line("super(input, output);");
        o.close();
        for f in functions {
            o.blank();
            o.line("@java.lang.Override");
            o.open(&format!("public {}", self.sync_signature(f, from)));
            self.build_args(o, f, from);
            let name = ident::string_literal(&f.name);
            if f.oneway {
                o.line(&format!("sendBaseOneway({name}, __args);"));
            } else {
                o.line(&format!("sendBase({name}, __args);"));
                let class = ident::escape(&format!("{}_result", f.name));
                o.line(&format!("{class} __result = new {class}();"));
                o.line(&format!("receiveBase(__result, {name});"));
                self.unpack_result(o, f, from, "return;");
            }
            o.close();
        }
        o.close();
    }

    fn async_client(
        &self,
        o: &mut Out,
        functions: &[Function],
        base: Option<&str>,
        from: Option<&str>,
    ) {
        o.blank();
        o.line("/**");
        o.line(" * A client that keeps many calls in flight on one connection; thread safe.");
        o.line(" *");
        o.line(" * <p>Calls are written as they are made; a daemon reader thread completes each call's");
        o.line(
            " * future when its reply arrives, matched by sequence id, so replies may come in any",
        );
        o.line(" * order. Dependent stages of a future without an executor run on that thread. Each call");
        o.line(" * fails with {@code java.util.concurrent.TimeoutException} after the timeout given at");
        o.line(" * construction (default: none); cancelling a future forgets its call. When the");
        o.line(" * connection fails or is closed, every call in flight fails.");
        o.line(" *");
        o.line(" * <p>The input and output protocols must be separate objects (libthrift's protocols and");
        o.line(
            " * framed transports are not safe for a reader and a writer at once), for example two",
        );
        o.line(" * {@code TBinaryProtocol}s over two {@code TFramedTransport}s over one socket.");
        o.line(" */");
        match base {
            Some(b) => {
                o.open(&format!(
                    "public static class AsyncClient extends {b}.AsyncClient implements AsyncIface"
                ));
                o.line("/** A client without a timeout per call. */");
                o.open("public AsyncClient(org.apache.thrift.protocol.TProtocol input, org.apache.thrift.protocol.TProtocol output)");
                o.line("super(input, output);");
                o.close();
                o.blank();
                o.line("/** A client whose calls fail after {@code timeout} (zero: never). */");
                o.open("public AsyncClient(org.apache.thrift.protocol.TProtocol input, org.apache.thrift.protocol.TProtocol output, java.time.Duration timeout)");
                o.line("super(input, output, timeout);");
                o.close();
            }
            None => {
                o.open("public static class AsyncClient implements AsyncIface, java.lang.AutoCloseable");
                ASYNC_MACHINERY.lines().for_each(|l| o.line(l));
            }
        }
        for f in functions {
            o.blank();
            o.line("@java.lang.Override");
            o.open(&format!("public {}", self.async_signature(f, from)));
            self.build_args(o, f, from);
            let name = ident::string_literal(&f.name);
            if f.oneway {
                o.line(&format!("return invoke({name}, true, __args, null);"));
            } else {
                let class = ident::escape(&format!("{}_result", f.name));
                o.open(&format!("return invoke({name}, false, __args, __in ->"));
                o.line(&format!("{class} __result = new {class}();"));
                o.line("__result.read(__in);");
                self.unpack_result(o, f, from, "return null;");
                o.close_with(");");
            }
            o.close();
        }
        o.close();
    }
}

/// The connection handling of a root service's `AsyncClient`, at class-body indentation.
const ASYNC_MACHINERY: &str = r#"/** Reads one reply's result struct and returns its value or throws its exception. */
@java.lang.FunctionalInterface
protected interface ReplyReader<T> {
    T read(org.apache.thrift.protocol.TProtocol in) throws java.lang.Exception;
}

private static final class Pending<T> {
    private final java.util.concurrent.CompletableFuture<T> future;
    private final ReplyReader<T> reader;

    private Pending(java.util.concurrent.CompletableFuture<T> future, ReplyReader<T> reader) {
        this.future = future;
        this.reader = reader;
    }

    private void complete(org.apache.thrift.protocol.TProtocol in) throws org.apache.thrift.TException {
        T value;
        try {
            value = reader.read(in);
        } catch (org.apache.thrift.transport.TTransportException | org.apache.thrift.protocol.TProtocolException e) {
            future.completeExceptionally(e);
            throw e;
        } catch (java.lang.Exception e) {
            future.completeExceptionally(e);
            return;
        }
        future.complete(value);
    }
}

private final org.apache.thrift.protocol.TProtocol input;
private final org.apache.thrift.protocol.TProtocol output;
private final long timeoutNanos;
private final java.util.concurrent.ConcurrentHashMap<java.lang.Integer, Pending<?>> pending = new java.util.concurrent.ConcurrentHashMap<>();
private final java.util.concurrent.atomic.AtomicInteger lastSeqid = new java.util.concurrent.atomic.AtomicInteger();
private final java.lang.Object writeLock = new java.lang.Object();
private java.lang.Thread reader;
private volatile java.lang.Throwable failure;

/** A client without a timeout per call. */
public AsyncClient(org.apache.thrift.protocol.TProtocol input, org.apache.thrift.protocol.TProtocol output) {
    this(input, output, java.time.Duration.ZERO);
}

/** A client whose calls fail after {@code timeout} (zero: never). */
public AsyncClient(org.apache.thrift.protocol.TProtocol input, org.apache.thrift.protocol.TProtocol output, java.time.Duration timeout) {
    this.input = java.util.Objects.requireNonNull(input, "input == null");
    this.output = java.util.Objects.requireNonNull(output, "output == null");
    this.timeoutNanos = java.util.Objects.requireNonNull(timeout, "timeout == null").toNanos();
}

/** The number of calls waiting for their replies. */
public int inFlight() {
    return pending.size();
}

/** Closes both transports; calls in flight fail. */
@java.lang.Override
public void close() {
    fail(new org.apache.thrift.transport.TTransportException(org.apache.thrift.transport.TTransportException.NOT_OPEN, "client closed"));
}

/**
 * Writes one call and returns the future of its reply ({@code null} at once for oneway calls).
 * The method name is written as given; a {@code TMultiplexedProtocol} output adds its prefix.
 */
protected final <T> java.util.concurrent.CompletableFuture<T> invoke(java.lang.String method, boolean oneway, org.apache.thrift.TBase<?, ?> args, ReplyReader<T> replyReader) {
    java.util.concurrent.CompletableFuture<T> future = new java.util.concurrent.CompletableFuture<>();
    int seqid = lastSeqid.incrementAndGet();
    if (!oneway) {
        pending.put(seqid, new Pending<>(future, replyReader));
        future.whenComplete((value, error) -> pending.remove(seqid));
        if (timeoutNanos > 0) {
            future.orTimeout(timeoutNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }
    java.lang.Throwable failed = failure;
    if (failed != null) {
        future.completeExceptionally(failed);
        return future;
    }
    try {
        synchronized (writeLock) {
            if (reader == null) {
                reader = new java.lang.Thread(this::readReplies, "mosaic-async-client-reader");
                reader.setDaemon(true);
                reader.start();
            }
            byte type = oneway ? org.apache.thrift.protocol.TMessageType.ONEWAY : org.apache.thrift.protocol.TMessageType.CALL;
            output.writeMessageBegin(new org.apache.thrift.protocol.TMessage(method, type, seqid));
            args.write(output);
            output.writeMessageEnd();
            output.getTransport().flush();
        }
    } catch (org.apache.thrift.TException | java.lang.RuntimeException e) {
        // A call written in part leaves the connection unusable.
        future.completeExceptionally(e);
        fail(e);
        return future;
    }
    if (oneway) {
        future.complete(null);
    }
    return future;
}

private void readReplies() {
    try {
        while (true) {
            org.apache.thrift.protocol.TMessage message = input.readMessageBegin();
            Pending<?> call = pending.remove(message.seqid);
            if (message.type == org.apache.thrift.protocol.TMessageType.EXCEPTION) {
                org.apache.thrift.TApplicationException error = org.apache.thrift.TApplicationException.readFrom(input);
                if (call != null) {
                    call.future.completeExceptionally(error);
                }
            } else if (call == null) {
                org.apache.thrift.protocol.TProtocolUtil.skip(input, org.apache.thrift.protocol.TType.STRUCT);
            } else {
                call.complete(input);
            }
            input.readMessageEnd();
        }
    } catch (java.lang.Throwable e) {
        fail(e);
    }
}

private void fail(java.lang.Throwable cause) {
    synchronized (pending) {
        if (failure == null) {
            failure = cause instanceof org.apache.thrift.transport.TTransportException
                ? cause
                : new org.apache.thrift.transport.TTransportException("connection failed", cause);
        }
    }
    input.getTransport().close();
    output.getTransport().close();
    for (java.lang.Integer seqid : pending.keySet()) {
        Pending<?> call = pending.remove(seqid);
        if (call != null) {
            call.future.completeExceptionally(failure);
        }
    }
}"#;
