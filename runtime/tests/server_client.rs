//! The server and client against each other over real sockets on 127.0.0.1, with a small
//! hand-written service (generated services are tested in `tests/conformance`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mosaic_runtime::cpu::CpuPool;
use mosaic_runtime::protocol::{ProtocolRead, ProtocolWrite};
use mosaic_runtime::server::Limits;
use mosaic_runtime::transport::Framing;
use mosaic_runtime::{
    ApplicationExceptionKind, Call, CallFuture, Client, Error, Protocol, ProtocolError, Reply,
    Server, Service, Struct, TType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `{ 1: binary value }` for arguments, `{ 0: binary success }` for results.
#[derive(Debug, Default, PartialEq)]
struct Blob {
    id: i16,
    value: Bytes,
}

impl Blob {
    fn arg(value: impl Into<Bytes>) -> Self {
        Blob {
            id: 1,
            value: value.into(),
        }
    }
}

impl Struct for Blob {
    fn encode<W: ProtocolWrite>(&self, w: &mut W) -> Result<(), ProtocolError> {
        w.write_struct_begin()?;
        w.write_field_begin(TType::String, self.id)?;
        w.write_bytes(&self.value)?;
        w.write_field_stop()?;
        w.write_struct_end()
    }

    fn decode<R: ProtocolRead>(r: &mut R) -> Result<Self, ProtocolError> {
        let mut out = Blob::default();
        r.read_struct_begin()?;
        while let Some(f) = r.read_field_begin()? {
            match f.ty {
                TType::String => {
                    out.id = f.id;
                    out.value = r.read_binary()?;
                }
                ty => r.skip(ty)?,
            }
        }
        r.read_struct_end()?;
        Ok(out)
    }
}

/// `echo` returns its argument, `sleep` sleeps for the number of milliseconds written in its
/// argument, `fail` fails, `note` (oneway) counts.
struct Echo {
    name: &'static str,
    notes: Arc<AtomicUsize>,
}

impl Service for Echo {
    fn name(&self) -> &'static str {
        self.name
    }

    fn call(&self, call: Call) -> CallFuture {
        let args: Blob = match call.decode() {
            Ok(a) => a,
            Err(e) => return call.protocol_error(e),
        };
        let tag = Bytes::from(self.name);
        match call.method() {
            "echo" => Box::pin(async move {
                call.reply(&Blob {
                    id: 0,
                    value: args.value,
                })
            }),
            "whoami" => Box::pin(async move { call.reply(&Blob { id: 0, value: tag }) }),
            "sleep" => Box::pin(async move {
                let ms: u64 = std::str::from_utf8(&args.value).unwrap().parse().unwrap();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                call.reply(&Blob {
                    id: 0,
                    value: args.value,
                })
            }),
            "fail" => Box::pin(async move { call.error(&Error::internal("it failed on purpose")) }),
            "note" => {
                self.notes.fetch_add(1, Ordering::SeqCst);
                Reply::oneway()
            }
            _ => call.unknown_method(),
        }
    }
}

struct Running {
    addr: String,
    notes: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

async fn start() -> Running {
    start_with(Limits::default()).await
}

async fn start_with(limits: Limits) -> Running {
    let notes = Arc::new(AtomicUsize::new(0));
    let server = Server::builder()
        .limits(limits)
        .service(Echo {
            name: "A",
            notes: notes.clone(),
        })
        .service(Echo {
            name: "B",
            notes: notes.clone(),
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.serve_until(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        notes,
        stop: Some(stop),
        done,
    }
}

fn client(addr: &str, protocol: Protocol, framing: Framing) -> Client {
    Client::builder(addr)
        .protocol(protocol)
        .framing(framing)
        .timeout(Duration::from_secs(10))
        .build()
}

async fn echo(c: &Client, service: Option<&str>, data: &[u8]) -> Result<Bytes, Error> {
    let r: Blob = c.call(service, "echo", &Blob::arg(data.to_vec())).await?;
    Ok(r.value)
}

const ENCODINGS: [(Protocol, Framing); 4] = [
    (Protocol::Binary, Framing::Framed),
    (Protocol::Binary, Framing::Unframed),
    (Protocol::Compact, Framing::Framed),
    (Protocol::Compact, Framing::Unframed),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_port_serves_every_protocol_and_framing() {
    let s = start().await;
    for (protocol, framing) in ENCODINGS {
        let c = client(&s.addr, protocol, framing);
        for size in [0, 1, 1000, 70_000, 3 * 1024 * 1024] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let back = echo(&c, None, &data).await.unwrap();
            assert!(
                back == data,
                "{protocol:?}/{framing:?}: echo of {size} bytes came back different"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_one_connection_run_concurrently_and_answer_by_seqid() {
    let s = start().await;
    let c = Client::builder(s.addr.clone()).max_connections(1).build();
    let slow = {
        let c = c.clone();
        tokio::spawn(async move {
            let r: Blob = c.call(None, "sleep", &Blob::arg("400")).await.unwrap();
            r.value
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The slow call is in flight on the only connection; a quick call must not wait for it.
    let quick = tokio::time::timeout(Duration::from_millis(300), echo(&c, None, b"quick"))
        .await
        .expect("the quick call waited for the slow one")
        .unwrap();
    assert_eq!(&quick[..], b"quick");
    assert!(
        !slow.is_finished(),
        "the slow call finished too early to prove anything"
    );
    assert_eq!(&slow.await.unwrap()[..], b"400");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_pipelined_calls_get_their_own_replies() {
    let s = start().await;
    let c = Client::builder(s.addr.clone()).max_connections(2).build();
    let mut calls = Vec::new();
    for i in 0..500u32 {
        let c = c.clone();
        calls.push(tokio::spawn(async move {
            let data = i.to_be_bytes();
            (i, echo(&c, None, &data).await.unwrap())
        }));
    }
    for call in calls {
        let (i, back) = call.await.unwrap();
        assert_eq!(
            &back[..],
            &i.to_be_bytes(),
            "call {i} got another call's reply"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_methods_and_failures_answer_application_exceptions() {
    let s = start().await;
    let c = client(&s.addr, Protocol::Compact, Framing::Framed);
    let e = c
        .call::<_, Blob>(None, "nope", &Blob::arg("x"))
        .await
        .unwrap_err();
    match e {
        Error::Application(a) => {
            assert_eq!(a.kind, ApplicationExceptionKind::UNKNOWN_METHOD);
            assert!(a.message.contains("nope"), "{}", a.message);
        }
        other => panic!("expected an application exception, got {other}"),
    }
    let e = c
        .call::<_, Blob>(None, "fail", &Blob::arg("x"))
        .await
        .unwrap_err();
    match e {
        Error::Application(a) => {
            assert_eq!(a.kind, ApplicationExceptionKind::INTERNAL_ERROR);
            assert_eq!(a.message, "it failed on purpose");
        }
        other => panic!("expected an application exception, got {other}"),
    }
    // The connection is still good.
    assert_eq!(&echo(&c, None, b"after").await.unwrap()[..], b"after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiplexed_names_route_to_their_service() {
    let s = start().await;
    let c = client(&s.addr, Protocol::Binary, Framing::Framed);
    for (service, expected) in [(None, "A"), (Some("A"), "A"), (Some("B"), "B")] {
        let r: Blob = c.call(service, "whoami", &Blob::arg("")).await.unwrap();
        assert_eq!(&r.value[..], expected.as_bytes(), "service {service:?}");
    }
    let e = c
        .call::<_, Blob>(Some("C"), "whoami", &Blob::arg(""))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Application(a) if a.kind == ApplicationExceptionKind::UNKNOWN_METHOD),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_ends_the_call_but_not_the_connection() {
    let s = start().await;
    let c = Client::builder(s.addr.clone())
        .max_connections(1)
        .timeout(Duration::from_millis(100))
        .build();
    let e = c
        .call::<_, Blob>(None, "sleep", &Blob::arg("1000"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    assert_eq!(
        &echo(&c, None, b"still here").await.unwrap()[..],
        b"still here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneway_calls_get_no_reply_and_run() {
    let s = start().await;
    let c = client(&s.addr, Protocol::Binary, Framing::Unframed);
    for _ in 0..3 {
        c.oneway(None, "note", &Blob::arg("")).await.unwrap();
    }
    // A reply on the same connection proves the oneway calls were read before it.
    assert_eq!(&echo(&c, None, b"x").await.unwrap()[..], b"x");
    assert_eq!(s.notes.load(Ordering::SeqCst), 3);
}

/// Sends `bytes` on a fresh connection and returns whether the server closed it.
async fn server_closes_after(addr: &str, bytes: &[u8]) -> bool {
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(bytes).await.unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bytes_close_only_their_own_connection() {
    let s = start().await;
    let good = client(&s.addr, Protocol::Binary, Framing::Framed);
    assert_eq!(&echo(&good, None, b"before").await.unwrap()[..], b"before");
    let garbage: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        &[0x80, 0x02, 0, 1, 0, 0, 0, 0],
        // A frame that claims 2 GiB.
        &[0x7f, 0xff, 0xff, 0xff, 0x80, 0x01, 0, 1],
        // A well-framed message whose method name is not UTF-8.
        &[0, 0, 0, 12, 0x80, 0x01, 0, 1, 0, 0, 0, 2, 0xc3, 0x28, 0, 0],
    ];
    for bytes in garbage {
        assert!(
            server_closes_after(&s.addr, bytes).await,
            "the server kept a connection open after {bytes:02x?}"
        );
    }
    assert_eq!(&echo(&good, None, b"after").await.unwrap()[..], b"after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_running_calls() {
    let mut s = start().await;
    let c = client(&s.addr, Protocol::Binary, Framing::Framed);
    let slow = {
        let c = c.clone();
        tokio::spawn(async move { c.call::<_, Blob>(None, "sleep", &Blob::arg("300")).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.stop.take().unwrap().send(()).unwrap();
    let reply = slow
        .await
        .unwrap()
        .expect("the running call was cut off by shutdown");
    assert_eq!(&reply.value[..], b"300");
    tokio::time::timeout(Duration::from_secs(5), s.done)
        .await
        .expect("the server did not stop after draining")
        .unwrap();
    assert!(
        TcpStream::connect(&s.addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_cpu_pool_answers_overloaded() {
    let pool = CpuPool::new(1, 1);
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let wait = Arc::new(std::sync::Mutex::new(wait));
    let blockers: Vec<_> = (0..2)
        .map(|_| {
            let (pool, wait) = (pool.clone(), wait.clone());
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = wait.lock().unwrap().recv();
                })
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let e = pool.run(|| 1).await.unwrap_err();
    assert!(matches!(e, Error::Overloaded(_)), "{e}");
    release.send(()).unwrap();
    release.send(()).unwrap();
    for b in blockers {
        b.await.unwrap().unwrap();
    }
    assert_eq!(pool.run(|| 7).await.unwrap(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_nothing_is_a_retry_safe_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let c = Client::builder(addr).build();
    let e = echo(&c, None, b"x").await.unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e}");
    assert!(e.is_retry_safe(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_arguments_get_a_protocol_error_then_the_connection_closes() {
    let s = start().await;
    // A framed strict-binary CALL of `echo` whose binary argument claims 1000 bytes but has 2.
    let mut message = vec![0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4];
    message.extend_from_slice(b"echo");
    message.extend_from_slice(&[0, 0, 0, 5]); // seqid
    message.extend_from_slice(&[11, 0, 1, 0, 0, 0x03, 0xe8, b'a', b'b', 0]);
    let mut framed = (message.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(&message);
    let mut raw = TcpStream::connect(&s.addr).await.unwrap();
    raw.write_all(&framed).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut reply))
        .await
        .expect("the server kept the connection open")
        .unwrap();
    // EXCEPTION (type 3) for `echo`, seqid 5, carrying PROTOCOL_ERROR (7) and a message.
    assert_eq!(
        &reply[4..8],
        &[0x80, 0x01, 0x00, 0x03],
        "reply: {reply:02x?}"
    );
    assert_eq!(&reply[16..20], &[0, 0, 0, 5], "reply: {reply:02x?}");
    let text = String::from_utf8_lossy(&reply);
    assert!(text.contains("could not be decoded"), "reply: {text}");
    assert_eq!(
        &reply[reply.len() - 5..],
        &[0, 0, 0, 7, 0],
        "reply: {reply:02x?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_memory_budget_refuses_large_messages_but_serves_small_ones() {
    const MIB: usize = 1024 * 1024;
    let s = start_with(Limits {
        max_buffered_bytes: 4 * MIB,
        max_message_size: 16 * MIB,
        ..Limits::default()
    })
    .await;
    // A peer starts a 3 MiB frame and stalls: the server reserves (and charges) all of it.
    let mut stalled = TcpStream::connect(&s.addr).await.unwrap();
    let mut start = (3 * MIB as u32).to_be_bytes().to_vec();
    start.extend_from_slice(&[0x80, 0x01, 0x00, 0x01]);
    start.extend(std::iter::repeat_n(0u8, MIB));
    stalled.write_all(&start).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A 2 MiB call does not fit what is left: its connection is closed with an error...
    let big = vec![7u8; 2 * MIB];
    let refused = echo(
        &client(&s.addr, Protocol::Binary, Framing::Framed),
        None,
        &big,
    )
    .await;
    assert!(
        refused.is_err(),
        "a 2 MiB call fit a budget with about 1 MiB left"
    );
    // ...while small calls go on.
    let small = client(&s.addr, Protocol::Binary, Framing::Framed);
    assert_eq!(&echo(&small, None, b"small").await.unwrap()[..], b"small");

    // Once the stalled peer leaves, its charge comes back and the large call fits.
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let back = echo(
        &client(&s.addr, Protocol::Binary, Framing::Framed),
        None,
        &big,
    )
    .await
    .expect("the budget was not given back");
    assert!(back == big, "the 2 MiB echo came back different");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_left_unfinished_is_closed_after_the_message_timeout() {
    let s = start_with(Limits {
        message_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    // A frame header and half a message, then nothing more.
    let mut slow = TcpStream::connect(&s.addr).await.unwrap();
    slow.write_all(&[0, 0, 0, 100, 0x80, 0x01, 0, 1])
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
        .await
        .expect("the server kept the unfinished message past its timeout");
    assert_eq!(read.unwrap(), 0, "the server closes without answering");
    // An idle connection (no unfinished message) is not affected.
    let idle = client(&s.addr, Protocol::Binary, Framing::Framed);
    assert_eq!(&echo(&idle, None, b"1").await.unwrap()[..], b"1");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(&echo(&idle, None, b"2").await.unwrap()[..], b"2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_for_another_method_is_refused() {
    // A server that answers every call as if it were a call of `other`.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut len = [0u8; 4];
        sock.read_exact(&mut len).await.unwrap();
        let mut call = vec![0u8; u32::from_be_bytes(len) as usize];
        sock.read_exact(&mut call).await.unwrap();
        let name_len = u32::from_be_bytes([call[4], call[5], call[6], call[7]]) as usize;
        let seqid = &call[8 + name_len..12 + name_len];
        let mut reply = vec![0x80, 0x01, 0x00, 0x02, 0, 0, 0, 5];
        reply.extend_from_slice(b"other");
        reply.extend_from_slice(seqid);
        reply.push(0);
        let mut framed = (reply.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        sock.write_all(&framed).await.unwrap();
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest).await;
    });
    let c = client(&addr, Protocol::Binary, Framing::Framed);
    match echo(&c, None, b"x").await {
        Err(Error::Application(a)) => {
            assert_eq!(a.kind, ApplicationExceptionKind::WRONG_METHOD_NAME, "{a}");
            assert!(a.message.contains("other"), "{a}");
        }
        other => panic!("expected WRONG_METHOD_NAME, got {other:?}"),
    }
}
