//! Generated handler traits, dispatchers and clients, over loopback with a real
//! `mosaic_runtime` server: results, declared exceptions, undeclared errors, oneway calls,
//! methods inherited across includes, keyword names, and multiplexing, in both protocols.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use mosaic_codegen_compile::tricky::common::{Base, CommonError, FailError, Level};
use mosaic_codegen_compile::tricky::keywords::{
    self, Crate, Dyn, Impl, ImplClient, ImplService, LoopError, Type,
};
use mosaic_codegen_compile::tricky::services::{
    Cache, CacheClient, CacheService, EvictError, GetError, PutError, Store,
};
use mosaic_codegen_compile::tricky::shapes::{Empty, Point, Problem, Shape, Silent, Value};
use mosaic_runtime::__private::Bytes;
use mosaic_runtime::{ApplicationExceptionKind, Client, Error, OrderedF64, Protocol, Server, Uuid};

/// An in-memory store behind `Cache` (which extends `Store`, which extends `common.Base`).
#[derive(Default)]
struct Memory {
    values: Mutex<BTreeMap<i64, Value>>,
    next: AtomicI64,
}

impl Base for Memory {
    async fn now(&self) -> Result<i64, Error> {
        Ok(1234)
    }

    async fn fail(&self, why: String) -> Result<(), FailError> {
        if why == "declared" {
            Err(CommonError {
                message: Some(why),
                level: Some(Level::LOW),
            }
            .into())
        } else {
            Err(Error::internal(why).into())
        }
    }
}

impl Store for Memory {
    async fn put(&self, value: Option<Value>, _label: String) -> Result<i64, PutError> {
        let value = value.ok_or(Problem {
            message: Some("no value".into()),
            code: Some(1),
        })?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.values.lock().expect("not poisoned").insert(id, value);
        Ok(id)
    }

    async fn get(&self, id: i64) -> Result<Value, GetError> {
        if id < 0 {
            return Err(CommonError {
                message: Some("negative id".into()),
                level: Some(Level::HIGH),
            }
            .into());
        }
        let values = self.values.lock().expect("not poisoned");
        values.get(&id).cloned().ok_or_else(|| {
            Problem {
                message: Some(format!("no value {id}")),
                code: Some(404),
            }
            .into()
        })
    }

    async fn forget(&self, id: i64) -> Result<(), Error> {
        self.values.lock().expect("not poisoned").remove(&id);
        Ok(())
    }

    async fn index(
        &self,
        points: Vec<Point>,
    ) -> Result<BTreeMap<Point, BTreeSet<OrderedF64>>, Error> {
        Ok(points
            .into_iter()
            .map(|p| {
                let coords = [p.x, p.y].into_iter().flatten().map(OrderedF64).collect();
                (p, coords)
            })
            .collect())
    }

    async fn clear(&self) -> Result<(), Error> {
        self.values.lock().expect("not poisoned").clear();
        Ok(())
    }

    async fn shape(&self, shape: Option<Shape>) -> Result<Shape, Error> {
        shape.ok_or_else(|| Error::internal("no shape"))
    }

    #[allow(clippy::too_many_arguments)]
    async fn many(
        &self,
        a: i8,
        b: i16,
        c: i32,
        d: i64,
        e: f64,
        f: String,
        g: Bytes,
        h: Uuid,
    ) -> Result<bool, Error> {
        let sum = i64::from(a) + i64::from(b) + i64::from(c) + d;
        Ok(sum == 10 && e == 0.5 && f == "f" && &g[..] == b"g" && h == Uuid::NIL)
    }
}

impl Cache for Memory {
    async fn evict(&self, id: i64) -> Result<(), EvictError> {
        Err(Silent {
            code: Some(id as i32),
        }
        .into())
    }
}

/// Every method of a service whose every name is a Rust keyword.
struct Keywords;

impl Impl for Keywords {
    async fn r#fn(
        &self,
        self_: Type,
        super_: Dyn,
        r: i32,
        args: i32,
        result: i32,
        handler: i32,
    ) -> Result<Type, Error> {
        Ok(Type {
            r#fn: Some(super_.0),
            r: Some(r),
            r#as: Some(args + result + handler),
            ..self_
        })
    }

    async fn new_(&self) -> Result<(), Error> {
        Ok(())
    }

    async fn multiplexed_(&self) -> Result<(), Error> {
        Ok(())
    }

    async fn r#loop(&self, r#where: keywords::Option) -> Result<keywords::Result, LoopError> {
        match r#where.none {
            Some(0) => Ok(r#where.some.unwrap_or_default()),
            Some(1) => Err(LoopError::Self_(Crate {
                message: Some("self".into()),
            })),
            _ => Err(LoopError::Other_(Crate {
                message: Some("other".into()),
            })),
        }
    }

    async fn r#yield(&self, _call: i32) -> Result<(), Error> {
        Ok(())
    }
}

/// Serves `cache` alone and `keywords` next to it on a second, multiplexed server.
async fn start() -> (String, String) {
    let alone = Server::builder()
        .service(CacheService::new(Memory::default()))
        .bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let both = Server::builder()
        .service(CacheService::new(Memory::default()))
        .service(ImplService::new(Keywords))
        .bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addrs = (
        alone.local_addr().to_string(),
        both.local_addr().to_string(),
    );
    tokio::spawn(alone.serve());
    tokio::spawn(both.serve());
    addrs
}

fn client(addr: &str, protocol: Protocol) -> Client {
    Client::builder(addr)
        .protocol(protocol)
        .timeout(Duration::from_secs(10))
        .build()
}

async fn exercise_cache(cache: &CacheClient) {
    assert_eq!(cache.now().await.expect("inherited from Base"), 1234);
    match cache.fail("declared".into()).await {
        Err(FailError::Error(e)) => {
            assert_eq!(e.level, Some(Level::LOW), "the exception's fields");
        }
        other => panic!("a declared exception, not {other:?}"),
    }
    match cache.fail("boom".into()).await {
        Err(FailError::Other(Error::Application(a))) => {
            assert!(a.message.contains("boom"), "the handler's message: {a}");
        }
        other => panic!("an application exception, not {other:?}"),
    }

    let value = Value::ListValue(vec![
        Value::DoubleValue(0.25),
        Value::StringValue("s".into()),
    ]);
    let id = cache
        .put(Some(value.clone()), "label".into())
        .await
        .expect("put succeeds");
    assert_eq!(cache.get(id).await.expect("get succeeds"), value);
    assert!(
        matches!(cache.put(None, String::new()).await, Err(PutError::Problem(p)) if p.code == Some(1))
    );
    assert!(matches!(cache.get(404).await, Err(GetError::Problem(p)) if p.code == Some(404)));
    assert!(
        matches!(cache.get(-1).await, Err(GetError::Common(c)) if c.level == Some(Level::HIGH))
    );

    cache.forget(id).await.expect("a oneway call is sent");
    // The oneway call has no reply: wait (bounded) until the server has run it.
    let mut forgotten = false;
    for _ in 0..100 {
        if matches!(cache.get(id).await, Err(GetError::Problem(_))) {
            forgotten = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(forgotten, "the oneway call ran");

    let index = cache
        .index(vec![Point {
            x: Some(1.0),
            y: Some(f64::NAN),
        }])
        .await
        .expect("index succeeds");
    assert_eq!(index.len(), 1, "{index:?}");
    cache.clear().await.expect("void methods return ()");
    let shape = Shape::Point(Point {
        x: Some(1.0),
        y: Some(2.0),
    });
    assert_eq!(
        cache.shape(Some(shape.clone())).await.expect("echoed"),
        shape
    );
    assert!(matches!(
        cache.shape(None).await,
        Err(Error::Application(_))
    ));
    assert!(
        cache
            .many(
                1,
                2,
                3,
                4,
                0.5,
                "f".into(),
                Bytes::from_static(b"g"),
                Uuid::NIL
            )
            .await
            .expect("eight arguments arrive")
    );
    assert!(matches!(cache.evict(7).await, Err(EvictError::Silent(s)) if s.code == Some(7)));
}

async fn exercise_keywords(k: &ImplClient) {
    let t = k
        .r#fn(
            Type {
                r#type: Some(9),
                ..Type::default()
            },
            Dyn::r#type,
            1,
            2,
            3,
            4,
        )
        .await
        .expect("keyword method");
    assert_eq!(
        (t.r#type, t.r#fn, t.r, t.r#as),
        (Some(9), Some(5), Some(1), Some(9))
    );
    k.new_().await.expect("`new` is `new_`");
    k.multiplexed_()
        .await
        .expect("`multiplexed` is `multiplexed_`");
    let some = keywords::Result {
        ok: Some("ok".into()),
        err: None,
    };
    let arg = |none| keywords::Option {
        some: Some(some.clone()),
        none: Some(none),
    };
    assert_eq!(k.r#loop(arg(0)).await.expect("loop succeeds"), some);
    assert!(
        matches!(k.r#loop(arg(1)).await, Err(LoopError::Self_(c)) if c.message.as_deref() == Some("self"))
    );
    assert!(
        matches!(k.r#loop(arg(2)).await, Err(LoopError::Other_(c)) if c.message.as_deref() == Some("other"))
    );
    k.r#yield(1).await.expect("oneway");
}

#[tokio::test]
async fn generated_clients_call_generated_services() {
    let (alone, both) = start().await;
    for protocol in [Protocol::Binary, Protocol::Compact] {
        exercise_cache(&CacheClient::new(client(&alone, protocol))).await;
        exercise_cache(&CacheClient::multiplexed(client(&both, protocol))).await;
        exercise_keywords(&ImplClient::multiplexed(client(&both, protocol))).await;
    }
}

#[tokio::test]
async fn unknown_methods_are_application_exceptions() {
    let (alone, _) = start().await;
    let c = client(&alone, Protocol::Binary);
    let result: Result<Empty, Error> = c.call(None, "noSuchMethod", &Empty {}).await;
    match result {
        Err(Error::Application(a)) => assert_eq!(a.kind, ApplicationExceptionKind::UNKNOWN_METHOD),
        other => panic!("an unknown-method exception, not {other:?}"),
    }
}
