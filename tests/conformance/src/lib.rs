//! Apache Thrift's cross-language test service, `ThriftTest` (and `SecondService`), served by
//! Mosaic exactly as `shared/conformance/README.md` specifies, so that Apache's own clients
//! in every language can check Mosaic's server.
//!
//! The code for `idl/ThriftTest.thrift` is generated at build time by `mosaic-codegen`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mosaic_runtime::__private::Bytes;
use mosaic_runtime::{Error, Uuid};

/// The generated code for `idl/ThriftTest.thrift`.
pub mod gen {
    include!(concat!(env!("OUT_DIR"), "/mosaic.rs"));
}

use gen::thrift_test::{
    Insanity, Numberz, SecondService, TestExceptionError, TestMultiExceptionError, ThriftTest,
    UserId, Xception, Xception2, Xtruct, Xtruct2,
};

/// The handler for `ThriftTest`: echoes, and the few methods with special rules.
#[derive(Clone, Debug, Default)]
pub struct TestHandler;

impl ThriftTest for TestHandler {
    async fn test_void(&self) -> Result<(), Error> {
        Ok(())
    }

    async fn test_string(&self, thing: String) -> Result<String, Error> {
        Ok(thing)
    }

    async fn test_bool(&self, thing: bool) -> Result<bool, Error> {
        Ok(thing)
    }

    async fn test_byte(&self, thing: i8) -> Result<i8, Error> {
        Ok(thing)
    }

    async fn test_i32(&self, thing: i32) -> Result<i32, Error> {
        Ok(thing)
    }

    async fn test_i64(&self, thing: i64) -> Result<i64, Error> {
        Ok(thing)
    }

    async fn test_double(&self, thing: f64) -> Result<f64, Error> {
        Ok(thing)
    }

    async fn test_binary(&self, thing: Bytes) -> Result<Bytes, Error> {
        Ok(thing)
    }

    async fn test_uuid(&self, thing: Uuid) -> Result<Uuid, Error> {
        Ok(thing)
    }

    async fn test_struct(&self, thing: Xtruct) -> Result<Xtruct, Error> {
        Ok(thing)
    }

    async fn test_nest(&self, thing: Xtruct2) -> Result<Xtruct2, Error> {
        Ok(thing)
    }

    async fn test_map(&self, thing: BTreeMap<i32, i32>) -> Result<BTreeMap<i32, i32>, Error> {
        Ok(thing)
    }

    async fn test_string_map(
        &self,
        thing: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, Error> {
        Ok(thing)
    }

    async fn test_set(&self, thing: BTreeSet<i32>) -> Result<BTreeSet<i32>, Error> {
        Ok(thing)
    }

    async fn test_list(&self, thing: Vec<i32>) -> Result<Vec<i32>, Error> {
        Ok(thing)
    }

    async fn test_enum(&self, thing: Numberz) -> Result<Numberz, Error> {
        Ok(thing)
    }

    async fn test_typedef(&self, thing: UserId) -> Result<UserId, Error> {
        Ok(thing)
    }

    async fn test_map_map(&self, _hello: i32) -> Result<BTreeMap<i32, BTreeMap<i32, i32>>, Error> {
        let negative = (-4..=-1).map(|i| (i, i)).collect();
        let positive = (1..=4).map(|i| (i, i)).collect();
        Ok(BTreeMap::from([(-4, negative), (4, positive)]))
    }

    async fn test_insanity(
        &self,
        argument: Insanity,
    ) -> Result<BTreeMap<UserId, BTreeMap<Numberz, Insanity>>, Error> {
        let first = BTreeMap::from([(Numberz::TWO, argument.clone()), (Numberz::THREE, argument)]);
        let second = BTreeMap::from([(Numberz::SIX, Insanity::default())]);
        Ok(BTreeMap::from([(1, first), (2, second)]))
    }

    async fn test_multi(
        &self,
        arg0: i8,
        arg1: i32,
        arg2: i64,
        _arg3: BTreeMap<i16, String>,
        _arg4: Numberz,
        _arg5: UserId,
    ) -> Result<Xtruct, Error> {
        Ok(Xtruct {
            string_thing: Some("Hello2".to_owned()),
            byte_thing: Some(arg0),
            i32_thing: Some(arg1),
            i64_thing: Some(arg2),
        })
    }

    async fn test_exception(&self, arg: String) -> Result<(), TestExceptionError> {
        match arg.as_str() {
            "Xception" => Err(TestExceptionError::Err1(Xception {
                error_code: Some(1001),
                message: Some(arg),
            })),
            "TException" => Err(TestExceptionError::Other(Error::internal(
                "testException(\"TException\") fails with an undeclared exception",
            ))),
            _ => Ok(()),
        }
    }

    async fn test_multi_exception(
        &self,
        arg0: String,
        arg1: String,
    ) -> Result<Xtruct, TestMultiExceptionError> {
        match arg0.as_str() {
            "Xception" => Err(TestMultiExceptionError::Err1(Xception {
                error_code: Some(1001),
                message: Some("This is an Xception".to_owned()),
            })),
            "Xception2" => Err(TestMultiExceptionError::Err2(Xception2 {
                error_code: Some(2002),
                struct_thing: Some(Xtruct {
                    string_thing: Some("This is an Xception2".to_owned()),
                    ..Xtruct::default()
                }),
            })),
            _ => Ok(Xtruct {
                string_thing: Some(arg1),
                ..Xtruct::default()
            }),
        }
    }

    async fn test_oneway(&self, seconds_to_sleep: i32) -> Result<(), Error> {
        // Apache's servers sleep too; the point is that the sleep delays nobody. Bounded so
        // that a hostile value cannot park a task for long.
        let secs = seconds_to_sleep.clamp(0, 10) as u64;
        tokio::time::sleep(Duration::from_secs(secs)).await;
        Ok(())
    }
}

/// The handler for `SecondService`.
#[derive(Clone, Debug, Default)]
pub struct SecondHandler;

impl SecondService for SecondHandler {
    async fn secondtest_string(&self, thing: String) -> Result<String, Error> {
        // Every Apache client checks this wrapped form (the IDL comment says otherwise).
        Ok(format!("testString(\"{thing}\")"))
    }
}

/// A server for both services on `addr`: `ThriftTest` answers unprefixed names.
pub async fn bind(addr: &str) -> std::io::Result<mosaic_runtime::Server> {
    mosaic_runtime::Server::builder()
        .service(gen::thrift_test::ThriftTestService::new(TestHandler))
        .service(gen::thrift_test::SecondServiceService::new(SecondHandler))
        .bind(addr)
        .await
}

/// Apache's cross-test command line, shared by `thrift-test-server` and `thrift-test-client`.
pub mod flags {
    use mosaic_runtime::transport::Framing;
    use mosaic_runtime::Protocol;

    /// The flags every Apache cross-test peer takes, and the extra ones a binary asked for.
    #[derive(Debug)]
    pub struct CrossTest {
        pub host: Option<String>,
        pub port: u16,
        pub protocol: Protocol,
        /// `multi`/`multic`: method names carry a `Service:` prefix.
        pub multiplexed: bool,
        pub framing: Framing,
        /// Extra flags, in order, with their values (`None` for switches).
        pub extra: Vec<(String, Option<String>)>,
    }

    /// Parses `--key=value` or `--key value` flags. `valued` and `switches` name the extra flags
    /// a binary takes beyond Apache's (`--host`, `--port`, `--protocol`, `--transport`).
    pub fn parse(
        args: impl Iterator<Item = String>,
        valued: &[&str],
        switches: &[&str],
        usage: &str,
    ) -> Result<CrossTest, String> {
        let mut flags = CrossTest {
            host: None,
            port: 9090,
            protocol: Protocol::Binary,
            multiplexed: false,
            framing: Framing::Unframed,
            extra: Vec::new(),
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let (key, inline) = match arg.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{key} needs a value"))
            };
            match key.as_str() {
                "--host" => flags.host = Some(value()?),
                "--port" => {
                    let v = value()?;
                    flags.port = v
                        .parse()
                        .map_err(|_| format!("--port: {v:?} is not a port number"))?;
                }
                "--protocol" => {
                    (flags.protocol, flags.multiplexed) = match value()?.as_str() {
                        "binary" => (Protocol::Binary, false),
                        "compact" => (Protocol::Compact, false),
                        "multi" => (Protocol::Binary, true),
                        "multic" => (Protocol::Compact, true),
                        other => {
                            return Err(format!(
                            "--protocol={other} is not supported (binary, compact, multi, multic)"
                        ))
                        }
                    }
                }
                "--transport" => {
                    flags.framing = match value()?.as_str() {
                        "buffered" => Framing::Unframed,
                        "framed" => Framing::Framed,
                        other => {
                            return Err(format!(
                                "--transport={other} is not supported (buffered, framed)"
                            ))
                        }
                    }
                }
                k if valued.contains(&k) => flags.extra.push((key.clone(), Some(value()?))),
                k if switches.contains(&k) && inline.is_none() => flags.extra.push((key, None)),
                "-h" | "--help" => return Err(usage.to_owned()),
                other => return Err(format!("unknown argument {other}\n{usage}")),
            }
        }
        Ok(flags)
    }
}
