//! The Rust client SDK against a real image server on a loopback socket.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mosaic_client::image::{Image, Op, Output, PixelFormat, Raw, RawImage, Resize, TransformError};

/// Serves the image service on 127.0.0.1 (a port the system picks) until the test ends.
async fn serve() -> String {
    use mosaic_server::idl::image::ImageServiceService;
    use mosaic_server::image::{ImageHandler, ImageLimits};
    let server = mosaic_runtime::Server::builder()
        .service(ImageServiceService::new(ImageHandler::new(
            ImageLimits::default(),
        )))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    tokio::spawn(server.serve());
    addr
}

fn gray(width: i32, height: i32) -> Image {
    let pixels: Vec<u8> = (0..width * height).map(|i| (i % 251) as u8).collect();
    Image::Raw(RawImage {
        width,
        height,
        pixel_format: PixelFormat::GRAY8,
        pixels: Bytes::from(pixels),
    })
}

#[tokio::test]
async fn connect_reaches_the_image_service_and_its_health_probe() {
    let addr = serve().await;
    let health = mosaic_client::connect(addr.clone()).health();
    health.ping().await.unwrap();
    assert_eq!(health.status().await.unwrap().name, "image");

    let image = mosaic_client::connect(addr)
        .timeout(Duration::from_secs(10))
        .image();
    let resize = Op::Resize(Resize {
        width: 50,
        height: 0,
        ..Default::default()
    });
    let out = image
        .transform(
            Some(gray(200, 100)),
            vec![resize],
            Some(Output::Raw(Raw::default())),
        )
        .await
        .unwrap();
    let Image::Raw(raw) = out else {
        panic!("asked for raw output")
    };
    assert_eq!((raw.width, raw.height, raw.pixels.len()), (50, 25, 50 * 25));
}

#[tokio::test]
async fn declared_exceptions_arrive_as_typed_variants() {
    let addr = serve().await;
    let image = mosaic_client::connect(addr).image();
    let bad = Op::Resize(Resize {
        width: 0,
        height: 0,
        ..Default::default()
    });
    match image.transform(Some(gray(8, 8)), vec![bad], None).await {
        Err(TransformError::InvalidArgument(e)) => {
            assert_eq!(e.field.as_deref(), Some("ops[0].resize.width"))
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[tokio::test]
async fn calls_are_pipelined_across_a_bounded_pool() {
    let addr = serve().await;
    let image = mosaic_client::connect(addr).max_connections(2).image();
    let calls = (0..64).map(|i| {
        let image = image.clone();
        async move {
            image
                .info(Some(gray(1 + i, 3)))
                .await
                .map(|info| info.width)
        }
    });
    let widths: Vec<i32> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(widths, (1..=64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    // A port nothing listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let health = mosaic_client::connect(format!("127.0.0.1:{port}"))
        .retries(2)
        .timeout(Duration::from_secs(5))
        .health();
    let err = health.ping().await.unwrap_err();
    assert!(matches!(err, mosaic_client::Error::Transport(_)), "{err:?}");
    // Two pauses (25 ms, 50 ms) before giving up.
    assert!(started.elapsed() >= Duration::from_millis(75));
}

#[tokio::test]
async fn a_server_that_comes_up_late_is_reached_by_a_retry() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let health = mosaic_client::connect(addr.to_string())
        .retries(6)
        .timeout(Duration::from_secs(10))
        .health();
    let call = tokio::spawn(async move { health.ping().await });
    // The first attempts are refused; the server starts within the retry window (25 + 50 +
    // 100 + 200 + 400 + 800 ms).
    tokio::time::sleep(Duration::from_millis(60)).await;
    use mosaic_server::idl::image::ImageServiceService;
    use mosaic_server::image::{ImageHandler, ImageLimits};
    let server = mosaic_runtime::Server::builder()
        .service(ImageServiceService::new(ImageHandler::new(
            ImageLimits::default(),
        )))
        .bind(addr)
        .await
        .unwrap();
    tokio::spawn(server.serve());
    call.await.unwrap().unwrap();
}
