//! Balancing across several servers over real sockets on 127.0.0.1: power of two choices,
//! round robin, weights, consistent hashing, zones, passive health, retries elsewhere, watched
//! sets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mosaic_runtime::protocol::{ProtocolRead, ProtocolWrite};
use mosaic_runtime::{
    Balancer, Call, CallFuture, Client, Endpoint, Error, ProtocolError, Server, Service, Struct,
    TType,
};

/// `{ 1: binary value }` for arguments, `{ 0: binary success }` for results.
#[derive(Debug, Default)]
struct Blob {
    id: i16,
    value: Bytes,
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

/// `whoami` answers the server's name after the server's delay, plus the milliseconds its
/// argument asks for (none when empty).
struct Named {
    name: String,
    delay: Duration,
}

impl Service for Named {
    fn name(&self) -> &'static str {
        "Named"
    }

    fn call(&self, call: Call) -> CallFuture {
        let args = match call.decode::<Blob>() {
            Ok(args) => args,
            Err(e) => return call.protocol_error(e),
        };
        let asked = std::str::from_utf8(&args.value)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(Duration::ZERO, Duration::from_millis);
        let name = Bytes::from(self.name.clone());
        let delay = self.delay + asked;
        match call.method() {
            "whoami" => Box::pin(async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                call.reply(&Blob { id: 0, value: name })
            }),
            _ => call.unknown_method(),
        }
    }
}

/// Serves `Named { name, delay }` on `addr` until the returned task is aborted.
async fn serve_on(addr: &str, name: &str, delay: Duration) -> tokio::task::JoinHandle<()> {
    let server = Server::builder()
        .service(Named {
            name: name.into(),
            delay,
        })
        .bind(addr)
        .await
        .unwrap();
    tokio::spawn(server.serve())
}

/// Starts a server named `name` on a port the system picks; returns its address.
async fn serve(name: &str, delay: Duration) -> String {
    let server = Server::builder()
        .service(Named {
            name: name.into(),
            delay,
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    tokio::spawn(server.serve());
    addr
}

/// An address nothing listens on (bound, read, closed).
fn dead_addr() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string()
}

async fn whoami(c: &Client) -> Result<String, Error> {
    whoami_after(c, Duration::ZERO).await
}

/// `whoami`, asking the server to take `extra` longer than it would.
async fn whoami_after(c: &Client, extra: Duration) -> Result<String, Error> {
    let value = if extra.is_zero() {
        Bytes::new()
    } else {
        Bytes::from(extra.as_millis().to_string())
    };
    let r: Blob = c.call(None, "whoami", &Blob { id: 1, value }).await?;
    Ok(String::from_utf8(r.value.to_vec()).unwrap())
}

/// Who answered `n` calls made one after another.
async fn tally(c: &Client, n: usize) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for _ in 0..n {
        *seen.entry(whoami(c).await.unwrap()).or_default() += 1;
    }
    seen
}

fn stats_of(c: &Client, addr: &str) -> mosaic_runtime::EndpointStats {
    c.stats()
        .into_iter()
        .find(|s| s.endpoint.addr() == addr)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_still_works_and_reports_its_stats() {
    let a = serve("a", Duration::ZERO).await;
    let c = Client::builder(a.clone()).build();
    assert_eq!(c.addr(), a);
    assert_eq!(tally(&c, 10).await["a"], 10);
    let s = stats_of(&c, &a);
    assert_eq!(
        (s.calls, s.errors, s.outstanding, s.ejected),
        (10, 0, 0, false)
    );
    assert_eq!(s.connections, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_takes_each_endpoint_in_turn() {
    let addrs = [
        serve("a", Duration::ZERO).await,
        serve("b", Duration::ZERO).await,
        serve("c", Duration::ZERO).await,
    ];
    let c = Client::builder_static(addrs.iter().map(String::as_str))
        .balancer(Balancer::RoundRobin)
        .build();
    let seen = tally(&c, 300).await;
    assert_eq!(seen.len(), 3);
    assert!(seen.values().all(|&n| n == 100), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_set_the_shares_and_zero_gets_nothing() {
    let (a, b, z) = (
        serve("a", Duration::ZERO).await,
        serve("b", Duration::ZERO).await,
        serve("z", Duration::ZERO).await,
    );
    let endpoints = [
        Endpoint::from(a.as_str()).with_weight(300),
        Endpoint::from(b.as_str()).with_weight(100),
        Endpoint::from(z.as_str()).with_weight(0),
    ];
    // Round robin: exactly 3:1.
    let rr = Client::builder_static(endpoints.clone())
        .balancer(Balancer::RoundRobin)
        .build();
    let seen = tally(&rr, 400).await;
    assert_eq!((seen["a"], seen["b"], seen.get("z")), (300, 100, None));
    // Power of two choices with no load: the draw by weight decides, about 3:1.
    let p2c = Client::builder_static(endpoints).build();
    let seen = tally(&p2c, 2000).await;
    assert_eq!(seen.get("z"), None);
    let share = seen["a"] as f64 / 2000.0;
    assert!((0.68..0.82).contains(&share), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_choices_prefer_the_endpoint_with_fewer_calls_outstanding() {
    let slow = serve("slow", Duration::from_millis(50)).await;
    let fast = serve("fast", Duration::ZERO).await;
    let c = Client::builder_static([slow.as_str(), fast.as_str()]).build();
    // 8 callers calling for 500 ms: calls pile up on the slow endpoint, so it loses the
    // comparison while it holds more calls than the fast one.
    let until = Instant::now() + Duration::from_millis(500);
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                let mut seen: HashMap<String, usize> = HashMap::new();
                while Instant::now() < until {
                    *seen.entry(whoami(&c).await.unwrap()).or_default() += 1;
                }
                seen
            })
        })
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in callers {
        for (k, v) in t.await.unwrap() {
            *seen.entry(k).or_default() += v;
        }
    }
    let (slow_calls, fast_calls) = (seen["slow"], seen["fast"]);
    // At most ~4 callers wait on the slow one at a time: about 40 calls in 500 ms.
    assert!(slow_calls <= 60, "{seen:?}");
    assert!(fast_calls > 10 * slow_calls, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sticks_to_one_endpoint_and_few_keys_move_when_the_set_changes() {
    let names = ["a", "b", "c", "d"];
    let mut addrs = Vec::new();
    for n in names {
        addrs.push(serve(n, Duration::ZERO).await);
    }
    let list = |which: &[usize]| -> Arc<[Endpoint]> {
        which
            .iter()
            .map(|&i| Endpoint::from(addrs[i].as_str()))
            .collect()
    };
    let (tx, rx) = tokio::sync::watch::channel(list(&[0, 1, 2]));
    let c = Client::builder_watch(rx)
        .balancer(Balancer::ConsistentHash)
        .build();
    let keys: Vec<String> = (0..300).map(|i| format!("model-{i}")).collect();
    let placement = |c: Client, keys: Vec<String>| async move {
        let mut out = Vec::new();
        for k in &keys {
            let keyed = c.with_key(k);
            let first = whoami(&keyed).await.unwrap();
            for _ in 0..2 {
                assert_eq!(whoami(&keyed).await.unwrap(), first, "key {k} moved");
            }
            out.push(first);
        }
        out
    };
    let three = placement(c.clone(), keys.clone()).await;
    for n in ["a", "b", "c"] {
        let share = three.iter().filter(|s| *s == n).count();
        assert!((50..150).contains(&share), "{n}: {share}");
    }

    // Adding d moves keys only to d, about a quarter of them.
    tx.send(list(&[0, 1, 2, 3])).unwrap();
    let four = placement(c.clone(), keys.clone()).await;
    let moved: Vec<_> = three.iter().zip(&four).filter(|(x, y)| x != y).collect();
    assert!(moved.iter().all(|(_, to)| *to == "d"), "{moved:?}");
    assert!((30..120).contains(&moved.len()), "{} moved", moved.len());

    // Removing b moves b's keys only.
    tx.send(list(&[0, 2, 3])).unwrap();
    let without_b = placement(c.clone(), keys.clone()).await;
    for (before, after) in four.iter().zip(&without_b) {
        if before != "b" {
            assert_eq!(before, after);
        } else {
            assert_ne!(after, "b");
        }
    }

    // Unkeyed calls still spread.
    assert!(tally(&c, 60).await.len() > 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_call_is_retried_on_another_endpoint_at_once() {
    let live = serve("live", Duration::ZERO).await;
    let dead = dead_addr();
    let c = Client::builder_static([dead.as_str(), live.as_str()])
        .balancer(Balancer::RoundRobin)
        .retries(1)
        .timeout(Duration::from_secs(5))
        .build();
    let started = Instant::now();
    let seen = tally(&c, 20).await;
    assert_eq!(seen["live"], 20);
    // No pause: the retry went elsewhere.
    assert!(started.elapsed() < Duration::from_millis(500));
    // The dead endpoint was tried once, then ejected.
    let s = stats_of(&c, &dead);
    assert_eq!((s.calls, s.errors, s.ejected), (1, 1, true), "{s:?}");
    assert!(s.ejected_for.unwrap() <= Duration::from_secs(1));
    let s = stats_of(&c, &live);
    assert_eq!((s.calls, s.errors), (20, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ejected_endpoint_is_readmitted_after_a_trial_call() {
    let live = serve("live", Duration::ZERO).await;
    let later = dead_addr();
    let c = Client::builder_static([later.as_str(), live.as_str()])
        .balancer(Balancer::RoundRobin)
        .retries(1)
        .timeout(Duration::from_secs(5))
        .build();
    assert_eq!(tally(&c, 4).await["live"], 4);
    assert!(stats_of(&c, &later).ejected);

    // The endpoint comes up; within its 1 s backoff it gets nothing.
    let _server = serve_on(&later, "later", Duration::ZERO).await;
    assert_eq!(tally(&c, 4).await.get("later"), None);
    // After it, a trial call reaches it and it is back in turn.
    let until = Instant::now() + Duration::from_secs(5);
    let mut back = false;
    while Instant::now() < until && !back {
        tokio::time::sleep(Duration::from_millis(100)).await;
        back = tally(&c, 2).await.contains_key("later");
    }
    assert!(back, "{:?}", c.stats());
    let s = stats_of(&c, &later);
    assert!(!s.ejected, "{s:?}");
    let seen = tally(&c, 10).await;
    assert_eq!((seen["live"], seen["later"]), (5, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_call_does_not_eject_an_endpoint_that_answers_the_rest() {
    let (a, b) = (
        serve("a", Duration::ZERO).await,
        serve("b", Duration::ZERO).await,
    );
    // A deadline that a loaded machine's ordinary calls still meet.
    let c = Client::builder_static([a.as_str(), b.as_str()])
        .balancer(Balancer::RoundRobin)
        .timeout(Duration::from_millis(500))
        .build();
    // Round robin: the slow request goes to `a`, then every other call; each slow one is
    // followed by an answered one from `a`, so its timeouts never come in a row.
    for _ in 0..4 {
        let e = whoami_after(&c, Duration::from_secs(3)).await.unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        assert_eq!(whoami(&c).await.unwrap(), "b");
        assert_eq!(
            tally(&c, 2).await,
            HashMap::from([("a".into(), 1), ("b".into(), 1)])
        );
        let s = stats_of(&c, &a);
        assert!(!s.ejected, "{s:?}");
    }
    let s = stats_of(&c, &a);
    assert_eq!((s.calls, s.errors), (8, 4), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_endpoint_is_ejected_and_a_failed_trial_doubles_its_backoff() {
    let slow = serve("slow", Duration::from_secs(3)).await;
    let fast = serve("fast", Duration::ZERO).await;
    let c = Client::builder_static([slow.as_str(), fast.as_str()])
        .balancer(Balancer::RoundRobin)
        .timeout(Duration::from_millis(200))
        .build();
    // Round robin sends every other call to the slow one; its third timeout in a row (with
    // no answer from it between) ejects it.
    for timeouts in 1..=3 {
        assert!(matches!(whoami(&c).await, Err(Error::Timeout(_))));
        assert_eq!(stats_of(&c, &slow).ejected, timeouts == 3);
        assert_eq!(whoami(&c).await.unwrap(), "fast");
    }
    assert_eq!(tally(&c, 6).await["fast"], 6);
    // The trial after the backoff times out too: ejected again, for 2 s.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut timeouts = 0;
    for _ in 0..4 {
        if let Err(e) = whoami(&c).await {
            assert!(matches!(e, Error::Timeout(_)), "{e:?}");
            timeouts += 1;
        }
    }
    assert_eq!(timeouts, 1);
    let s = stats_of(&c, &slow);
    assert!(
        s.ejected && s.ejected_for.unwrap() > Duration::from_millis(1500),
        "{s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_endpoint_is_ejected_one_is_still_tried() {
    let (x, y) = (dead_addr(), dead_addr());
    let c = Client::builder_static([x.as_str(), y.as_str()])
        .retries(1)
        .timeout(Duration::from_secs(5))
        .build();
    // Tried on one, retried on the other: both refuse and both are ejected.
    assert!(matches!(whoami(&c).await, Err(Error::Transport(_))));
    assert!(c.stats().iter().all(|s| s.ejected), "{:?}", c.stats());
    // A server comes up at one of them: calls reach it within its backoff, since every
    // endpoint is ejected and the call is still made (and retried on the other).
    let _server = serve_on(&x, "x", Duration::ZERO).await;
    assert_eq!(whoami(&c).await.unwrap(), "x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_set_follows_its_list_and_keeps_the_last_one() {
    let a = serve("a", Duration::ZERO).await;
    let b = serve("b", Duration::ZERO).await;
    let (tx, rx) = tokio::sync::watch::channel::<Arc<[Endpoint]>>(Arc::from([]));
    let c = Client::builder_watch(rx)
        .balancer(Balancer::RoundRobin)
        .timeout(Duration::from_secs(5))
        .build();
    // An empty list: the call waits for one.
    let first = tokio::spawn({
        let c = c.clone();
        async move { whoami(&c).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(Arc::from([Endpoint::from(a.as_str())])).unwrap();
    assert_eq!(first.await.unwrap().unwrap(), "a");

    tx.send(Arc::from([
        Endpoint::from(a.as_str()),
        Endpoint::from(b.as_str()),
    ]))
    .unwrap();
    let seen = tally(&c, 10).await;
    assert_eq!((seen["a"], seen["b"]), (5, 5));
    // `a` stayed in the set: its counters and connection did too.
    assert_eq!(stats_of(&c, &a).calls, 6);

    tx.send(Arc::from([Endpoint::from(b.as_str())])).unwrap();
    assert_eq!(tally(&c, 5).await["b"], 5);
    assert_eq!(c.stats().len(), 1);

    // The source goes away: the last list stays.
    drop(tx);
    assert_eq!(tally(&c, 3).await["b"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_watched_set_fails_within_the_deadline() {
    let (_tx, rx) = tokio::sync::watch::channel::<Arc<[Endpoint]>>(Arc::from([]));
    let c = Client::builder_watch(rx)
        .retries(0)
        .timeout(Duration::from_millis(100))
        .build();
    let started = Instant::now();
    let err = whoami(&c).await.unwrap_err();
    assert!(matches!(&err, Error::Transport(e) if e.kind() == std::io::ErrorKind::NotFound));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_keeps_every_balancer_among_its_endpoints_while_one_is_usable() {
    let (a, b, c) = (
        serve("a", Duration::ZERO).await,
        serve("b", Duration::ZERO).await,
        serve("c", Duration::ZERO).await,
    );
    let endpoints = [
        Endpoint::from(a.as_str()).with_zone("x"),
        Endpoint::from(b.as_str()).with_zone("y"),
        Endpoint::from(c.as_str()).with_zone("x"),
    ];
    let rr = Client::builder_static(endpoints.clone())
        .balancer(Balancer::RoundRobin)
        .zone("x")
        .build();
    assert_eq!(
        tally(&rr, 10).await,
        HashMap::from([("a".into(), 5), ("c".into(), 5)])
    );
    let p2c = Client::builder_static(endpoints.clone()).zone("x").build();
    assert_eq!(tally(&p2c, 50).await.get("b"), None);
    let ring = Client::builder_static(endpoints.clone())
        .balancer(Balancer::ConsistentHash)
        .zone("y")
        .build();
    for key in ["resnet50", "vit", "clip"] {
        assert_eq!(tally(&ring.with_key(key), 3).await["b"], 3);
    }
    // No endpoint of the zone is usable (the only one is dead): the others take the calls.
    let dead = dead_addr();
    let c2 = Client::builder_static([
        Endpoint::from(dead.as_str()).with_zone("z"),
        Endpoint::from(a.as_str()).with_zone("x"),
    ])
    .zone("z")
    .retries(1)
    .build();
    assert_eq!(tally(&c2, 5).await["a"], 5);
    assert!(stats_of(&c2, &dead).ejected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_leave_untagged_endpoints_out_of_the_set() {
    let (a, b, c) = (
        serve("a", Duration::ZERO).await,
        serve("b", Duration::ZERO).await,
        serve("c", Duration::ZERO).await,
    );
    let endpoints = [
        Endpoint::from(a.as_str())
            .with_tag("gpu", "a100")
            .with_tag("model", "resnet50"),
        Endpoint::from(b.as_str()).with_tag("gpu", "t4"),
        Endpoint::from(c.as_str()).with_tag("model", "resnet50"),
    ];
    let gpu = Client::builder_static(endpoints.clone())
        .tag("gpu", "a100")
        .build();
    assert_eq!(tally(&gpu, 10).await, HashMap::from([("a".into(), 10)]));
    assert_eq!(gpu.stats().len(), 1, "{:?}", gpu.stats());
    let resnet = Client::builder_static(endpoints.clone())
        .balancer(Balancer::RoundRobin)
        .tag("model", "resnet50")
        .build();
    assert_eq!(
        tally(&resnet, 10).await,
        HashMap::from([("a".into(), 5), ("c".into(), 5)])
    );
    // Every tag must match; none does here, and the error says what was asked.
    let nothing = Client::builder_static(endpoints)
        .tag("gpu", "t4")
        .tag("model", "resnet50")
        .build();
    let e = whoami(&nothing).await.unwrap_err();
    assert!(
        e.to_string().contains("tagged gpu=t4, model=resnet50"),
        "{e}"
    );
}
