//! The image service over a real socket: a server on 127.0.0.1 and the generated Rust client.

use std::io::Cursor;

use bytes::Bytes;
use image::{DynamicImage, ImageBuffer, Luma, Rgb};
use mosaic_server::idl::image::*;
use mosaic_server::image::{ImageHandler, ImageLimits};

async fn start(limits: ImageLimits) -> ImageServiceClient {
    let server = mosaic_runtime::Server::builder()
        .service(ImageServiceService::new(ImageHandler::new(limits)))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    tokio::spawn(server.serve());
    ImageServiceClient::new(mosaic_runtime::Client::builder(addr).build())
}

/// A gradient photo stand-in: smooth, so lossy codecs keep it close.
fn gradient(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(ImageBuffer::from_fn(w, h, |x, y| {
        Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    }))
}

fn encoded(image: &DynamicImage, format: image::ImageFormat) -> Image {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    Image::Encoded(EncodedImage {
        data: Bytes::from(out),
        format: None,
    })
}

fn decode(image: &Image) -> DynamicImage {
    match image {
        Image::Encoded(e) => image::load_from_memory(&e.data).unwrap(),
        Image::Raw(r) => {
            assert_eq!(
                r.pixel_format,
                PixelFormat::RGB8,
                "test helper decodes RGB8 only"
            );
            DynamicImage::ImageRgb8(
                ImageBuffer::from_raw(r.width as u32, r.height as u32, r.pixels.to_vec()).unwrap(),
            )
        }
        Image::Unknown(id) => panic!("the server answered an image kind it does not have: {id}"),
    }
}

fn op_resize(width: i32, height: i32, mode: ResizeMode) -> Op {
    Op::Resize(Resize {
        width,
        height,
        mode: Some(mode),
        filter: None,
    })
}

#[tokio::test]
async fn health_answers_with_the_service_name() {
    let client = start(ImageLimits::default()).await;
    client.ping().await.unwrap();
    let status = client.status().await.unwrap();
    assert_eq!(status.name, "image");
    // The status call itself is the one in flight; the ping was served.
    assert_eq!((status.in_flight, status.served), (1, 1));
    let again = client.status().await.unwrap();
    assert_eq!((again.in_flight, again.served), (1, 2));
}

#[tokio::test]
async fn info_reads_size_format_and_pixel_layout() {
    let client = start(ImageLimits::default()).await;
    let png = encoded(&gradient(640, 480), image::ImageFormat::Png);
    let info = client.info(Some(png.clone())).await.unwrap();
    assert_eq!((info.width, info.height), (640, 480));
    assert_eq!(info.format, Some(ImageFormat::PNG));
    assert_eq!(info.pixel_format, PixelFormat::RGB8);
    let Image::Encoded(e) = &png else {
        unreachable!()
    };
    assert_eq!(info.size_bytes, e.data.len() as i64);

    let jpeg = encoded(&gradient(33, 17), image::ImageFormat::Jpeg);
    let info = client.info(Some(jpeg)).await.unwrap();
    assert_eq!(
        (info.width, info.height, info.format),
        (33, 17, Some(ImageFormat::JPEG))
    );
}

#[tokio::test]
async fn resize_modes_produce_the_sizes_they_promise() {
    let client = start(ImageLimits::default()).await;
    let png = encoded(&gradient(400, 300), image::ImageFormat::Png);
    for (op, want) in [
        (op_resize(200, 200, ResizeMode::FIT), (200, 150)),
        (op_resize(0, 60, ResizeMode::FIT), (80, 60)),
        (op_resize(200, 200, ResizeMode::FILL), (200, 200)),
        (op_resize(123, 45, ResizeMode::EXACT), (123, 45)),
    ] {
        let out = client
            .transform(Some(png.clone()), vec![op], None)
            .await
            .unwrap();
        let Image::Encoded(e) = &out else {
            panic!("encoded input comes back encoded")
        };
        assert_eq!(e.format, Some(ImageFormat::PNG));
        let img = decode(&out);
        assert_eq!((img.width(), img.height()), want);
    }
}

#[tokio::test]
async fn a_pipeline_runs_in_order_and_returns_raw_pixels() {
    let client = start(ImageLimits::default()).await;
    let png = encoded(&gradient(100, 50), image::ImageFormat::Png);
    let ops = vec![
        Op::Crop(Crop {
            x: 10,
            y: 5,
            width: 40,
            height: 20,
        }),
        Op::Rotate(Rotate {
            degrees: 90.0,
            ..Default::default()
        }),
        Op::Flip(Flip {
            axis: FlipAxis::HORIZONTAL,
        }),
    ];
    let out = client
        .transform(Some(png), ops, Some(Output::Raw(Raw::default())))
        .await
        .unwrap();
    let Image::Raw(raw) = out else {
        panic!("asked for raw output")
    };
    assert_eq!(
        (raw.width, raw.height, raw.pixel_format),
        (20, 40, PixelFormat::RGB8)
    );
    assert_eq!(raw.pixels.len(), 20 * 40 * 3);
    // Crop then rotate 90 clockwise then mirror: output (x, y) is source (10 + y, 5 + x).
    let src = gradient(100, 50).to_rgb8();
    let got = decode(&Image::Raw(raw)).to_rgb8();
    for (x, y) in [(0, 0), (19, 0), (0, 39), (7, 13)] {
        assert_eq!(
            got.get_pixel(x, y),
            src.get_pixel(10 + y, 5 + x),
            "pixel ({x}, {y})"
        );
    }
}

#[tokio::test]
async fn sixteen_bit_gray_survives_and_window_level_maps_it() {
    let client = start(ImageLimits::default()).await;
    let values: Vec<u16> = vec![0, 1000, 2000, 3000, 4000, 5000, 60000, 65535];
    let pixels: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let raw = Image::Raw(RawImage {
        width: 4,
        height: 2,
        pixel_format: PixelFormat::GRAY16,
        pixels: Bytes::from(pixels.clone()),
    });
    // No ops, raw out: bit-exact.
    let same = client
        .transform(Some(raw.clone()), vec![], None)
        .await
        .unwrap();
    let Image::Raw(same) = same else {
        panic!("raw input comes back raw")
    };
    assert_eq!(same.pixel_format, PixelFormat::GRAY16);
    assert_eq!(&same.pixels[..], &pixels[..]);
    // PNG keeps 16 bits.
    let png = client
        .transform(
            Some(raw.clone()),
            vec![],
            Some(Output::Encode(Encode {
                format: ImageFormat::PNG,
                quality: None,
            })),
        )
        .await
        .unwrap();
    let Image::Encoded(png) = png else { panic!() };
    let decoded = image::load_from_memory(&png.data).unwrap();
    assert_eq!(decoded.to_luma16().into_raw(), values);
    // Window 1000..5000 onto 8 bits.
    let wl = Op::WindowLevel(WindowLevel {
        center: 3000.0,
        width: 4000.0,
        output: None,
    });
    let out = client.transform(Some(raw), vec![wl], None).await.unwrap();
    let Image::Raw(out) = out else { panic!() };
    assert_eq!(out.pixel_format, PixelFormat::GRAY8);
    assert_eq!(&out.pixels[..], &[0, 0, 64, 128, 191, 255, 255, 255]);
}

#[tokio::test]
async fn bad_input_gets_the_declared_exception_and_the_server_goes_on() {
    let client = start(ImageLimits {
        max_pixels: 1_000_000,
        max_batch: 4,
    })
    .await;
    let jpeg = encoded(&gradient(64, 64), image::ImageFormat::Jpeg);
    let Image::Encoded(full) = &jpeg else {
        unreachable!()
    };

    let garbage = Image::Encoded(EncodedImage {
        data: Bytes::from_static(b"not an image"),
        format: None,
    });
    match client.info(Some(garbage)).await {
        Err(InfoError::InvalidImage(e)) => assert!(
            e.message.contains("not an image in a known format"),
            "{}",
            e.message
        ),
        other => panic!("expected InvalidImage, got {other:?}"),
    }

    // Cut inside the entropy-coded scan (decoders would fill the rest with grey) and
    // inside the headers: both are invalid images, with a message saying so.
    for cut in [full.data.len() - 10, full.data.len() / 4] {
        let truncated = Image::Encoded(EncodedImage {
            data: full.data.slice(..cut),
            format: None,
        });
        match client.transform(Some(truncated), vec![], None).await {
            Err(TransformError::InvalidImage(e)) => {
                assert!(e.message.contains("JPEG"), "{}", e.message);
                if cut > full.data.len() / 2 {
                    assert!(e.message.contains("truncated"), "{}", e.message);
                }
            }
            other => panic!("cut at {cut}: expected InvalidImage, got {other:?}"),
        }
    }

    let ops = vec![
        Op::Grayscale(Grayscale {}),
        op_resize(-5, 10, ResizeMode::EXACT),
    ];
    match client.transform(Some(jpeg.clone()), ops, None).await {
        Err(TransformError::InvalidArgument(e)) => {
            assert_eq!(e.field.as_deref(), Some("ops[1].resize.width"));
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }

    let crop = Op::Crop(Crop {
        x: 60,
        y: 0,
        width: 10,
        height: 10,
    });
    match client.transform(Some(jpeg.clone()), vec![crop], None).await {
        Err(TransformError::InvalidArgument(e)) => {
            assert_eq!(e.field.as_deref(), Some("ops[0].crop"));
            assert!(
                e.message.contains("does not fit inside the 64x64 image"),
                "{}",
                e.message
            );
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }

    // A 2000x1000 image is over the 1 MP budget: refused from its header.
    let big = encoded(&gradient(2000, 1000), image::ImageFormat::Png);
    match client.transform(Some(big), vec![], None).await {
        Err(TransformError::TooLarge(e)) => {
            assert_eq!((e.limit, e.requested), (Some(1_000_000), Some(2_000_000)));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // ... and so is a resize that would produce one.
    match client
        .transform(
            Some(jpeg.clone()),
            vec![op_resize(5000, 5000, ResizeMode::EXACT)],
            None,
        )
        .await
    {
        Err(TransformError::TooLarge(_)) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }

    let wrong_size = Image::Raw(RawImage {
        width: 10,
        height: 10,
        pixel_format: PixelFormat::RGB8,
        pixels: Bytes::from(vec![0; 299]),
    });
    match client.stats(Some(wrong_size)).await {
        Err(StatsError::InvalidImage(e)) => {
            assert!(e.message.contains("needs 300 bytes"), "{}", e.message)
        }
        other => panic!("expected InvalidImage, got {other:?}"),
    }

    // Still serving.
    let out = client
        .transform(Some(jpeg), vec![op_resize(8, 8, ResizeMode::EXACT)], None)
        .await
        .unwrap();
    assert_eq!(decode(&out).width(), 8);
}

#[tokio::test]
async fn a_batch_reports_each_item_on_its_own() {
    let client = start(ImageLimits {
        max_pixels: 1_000_000,
        max_batch: 4,
    })
    .await;
    let good = encoded(&gradient(120, 80), image::ImageFormat::Png);
    let bad = Image::Encoded(EncodedImage {
        data: Bytes::from_static(b"\x89PNG broken"),
        format: None,
    });
    let items = client
        .transform_batch(
            vec![good.clone(), bad, good.clone()],
            vec![Op::Thumbnail(Thumbnail {
                max_width: 30,
                max_height: 30,
            })],
            Some(Output::Encode(Encode {
                format: ImageFormat::JPEG,
                quality: Some(80),
            })),
        )
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    for i in [0, 2] {
        let BatchItem::Image(image) = &items[i] else {
            panic!("item {i} failed: {:?}", items[i])
        };
        let img = decode(image);
        assert_eq!((img.width(), img.height()), (30, 20));
    }
    let BatchItem::Error(e) = &items[1] else {
        panic!("item 1 should fail")
    };
    assert_eq!(e.kind, ErrorKind::INVALID_IMAGE);

    match client.transform_batch(vec![good; 5], vec![], None).await {
        Err(TransformBatchError::TooLarge(e)) => assert_eq!(e.requested, Some(5)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn analysis_counts_what_numpy_would() {
    let client = start(ImageLimits::default()).await;
    // Two squares on black; 8-connected, one pixel apart diagonally would join, so keep a gap.
    let mut gray = ImageBuffer::from_pixel(20, 10, Luma([0u8]));
    for (x0, y0, side) in [(1, 1, 3), (10, 4, 5)] {
        for y in y0..y0 + side {
            for x in x0..x0 + side {
                gray.put_pixel(x, y, Luma([200]));
            }
        }
    }
    let raw = Image::Raw(RawImage {
        width: 20,
        height: 10,
        pixel_format: PixelFormat::GRAY8,
        pixels: Bytes::from(gray.clone().into_raw()),
    });
    let hist = client.histogram(Some(raw.clone()), 0).await.unwrap();
    assert_eq!(hist.channels.len(), 1);
    assert_eq!(hist.channels[0].counts.len(), 256);
    assert_eq!(hist.channels[0].counts[200], 9 + 25);
    assert_eq!(hist.channels[0].counts[0], 200 - 34);

    let stats = client.stats(Some(raw.clone())).await.unwrap();
    let mean = 200.0 * 34.0 / 200.0;
    assert!((stats.channels[0].mean - mean).abs() < 1e-9);
    assert_eq!((stats.channels[0].min, stats.channels[0].max), (0.0, 200.0));

    let seg = client
        .segment(
            Some(raw),
            SegmentOptions {
                min_area: Some(2),
                label_image: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let areas: Vec<i64> = seg.regions.iter().map(|r| r.area).collect();
    assert_eq!(areas, vec![9, 25]);
    assert_eq!(
        seg.regions[1].bbox,
        Rect {
            x: 10,
            y: 4,
            width: 5,
            height: 5
        }
    );
    assert_eq!(seg.regions[1].centroid, Point { x: 12.0, y: 6.0 });
    let labels = seg.labels.unwrap();
    let at = |x: usize, y: usize| {
        u32::from_le_bytes(labels.labels[(y * 20 + x) * 4..][..4].try_into().unwrap())
    };
    assert_eq!((at(2, 2), at(12, 6), at(0, 0)), (1, 2, 0));
}
