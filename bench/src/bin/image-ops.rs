//! `image-ops`: times the image service's kernels in-process on one thread, on the images
//! `bench/images/compare.py` prepares, so that they can be set against Pillow's and OpenCV's
//! times for the same work on the same pixels.
//!
//! Usage: `image-ops --photo PNG --photo-jpeg JPEG --large-jpeg JPEG --large-progressive JPEG
//! [--iters N]`.
//! Prints one line per operation: `name<TAB>median milliseconds`.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use image::DynamicImage;
use mosaic_server::idl::image::{
    Blur, EdgeMethod, Edges, EncodedImage, Filter, Grayscale, Image, ImageFormat, Op, Resize,
    ResizeMode, Rotate, Thumbnail,
};
use mosaic_server::image::{codec, ops, ImageLimits};

/// The allocator the `mosaic` binary runs the service with (see cli/src/main.rs), so that
/// the kernels are timed as the server runs them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    photo: String,
    photo_jpeg: String,
    photo_progressive: String,
    large_jpeg: String,
    large_progressive: String,
    iters: usize,
}

fn args() -> Result<Args> {
    let mut a = Args {
        photo: String::new(),
        photo_jpeg: String::new(),
        photo_progressive: String::new(),
        large_jpeg: String::new(),
        large_progressive: String::new(),
        iters: 15,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--photo" => a.photo = value,
            "--photo-jpeg" => a.photo_jpeg = value,
            "--photo-progressive" => a.photo_progressive = value,
            "--large-jpeg" => a.large_jpeg = value,
            "--large-progressive" => a.large_progressive = value,
            "--iters" => a.iters = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if [
        &a.photo,
        &a.photo_jpeg,
        &a.photo_progressive,
        &a.large_jpeg,
        &a.large_progressive,
    ]
    .iter()
    .any(|path| path.is_empty())
    {
        bail!(
            "usage: image-ops --photo PNG --photo-jpeg JPEG --photo-progressive JPEG \
             --large-jpeg JPEG --large-progressive JPEG [--iters N]"
        );
    }
    Ok(a)
}

/// The median time of `iters` runs of `work` on a fresh `setup()` each (setup not timed).
fn time<T, R>(iters: usize, mut setup: impl FnMut() -> T, mut work: impl FnMut(T) -> R) -> f64 {
    let mut times: Vec<f64> = (0..iters)
        .map(|_| {
            let input = setup();
            let start = Instant::now();
            std::hint::black_box(work(input));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn encoded(path: &str) -> Result<Image> {
    Ok(Image::Encoded(EncodedImage {
        data: Bytes::from(std::fs::read(path).with_context(|| format!("reading {path}"))?),
        format: None,
    }))
}

fn main() -> Result<()> {
    let a = args()?;
    let limits = ImageLimits::default();
    let png = encoded(&a.photo)?;
    let jpeg = encoded(&a.photo_jpeg)?;
    let large = encoded(&a.large_jpeg)?;
    let decode = |image: &Image| -> Result<DynamicImage> {
        Ok(codec::decode(image, &limits)
            .map_err(anyhow::Error::msg)?
            .image)
    };
    let photo = decode(&png)?;
    let large_pixels = decode(&large)?;

    let op = |name: &str, source: &DynamicImage, op: Op| {
        let ms = time(
            a.iters,
            || source.clone(),
            |img| ops::run(img, None, std::slice::from_ref(&op), &limits),
        );
        println!("{name}\t{ms:.3}");
    };
    op("grayscale", &photo, Op::Grayscale(Grayscale {}));
    // Edges start from gray, as the OpenCV calls they are set against do (the service
    // converts colour first; that step is timed above as "grayscale").
    let gray = ops::run(photo.clone(), None, &[Op::Grayscale(Grayscale {})], &limits)
        .map_err(anyhow::Error::msg)?;
    op(
        "gaussian blur sigma 3",
        &photo,
        Op::Blur(Blur { sigma: 3.0 }),
    );
    op(
        "sobel magnitude",
        &gray,
        Op::Edges(Edges {
            method: Some(EdgeMethod::SOBEL),
            ..Default::default()
        }),
    );
    op(
        "canny 50/100",
        &gray,
        Op::Edges(Edges {
            method: Some(EdgeMethod::CANNY),
            low: Some(50.0),
            high: Some(100.0),
        }),
    );
    op(
        "rotate 17 degrees",
        &photo,
        Op::Rotate(Rotate {
            degrees: 17.0,
            expand: Some(false),
            background: None,
            filter: Some(Filter::BILINEAR),
        }),
    );
    op(
        "resize 4000x3000 to 400x300 lanczos3",
        &large_pixels,
        Op::Resize(Resize {
            width: 400,
            height: 300,
            mode: Some(ResizeMode::EXACT),
            filter: Some(Filter::LANCZOS3),
        }),
    );
    let ms = time(
        a.iters,
        || photo.clone(),
        |img| codec::encode(img, ImageFormat::JPEG, 85),
    );
    println!("jpeg encode q85\t{ms:.3}");
    let ms = time(a.iters, || (), |()| codec::decode(&png, &limits));
    println!("png decode\t{ms:.3}");
    let ms = time(a.iters, || (), |()| codec::decode(&jpeg, &limits));
    println!("jpeg decode\t{ms:.3}");
    let progressive = encoded(&a.photo_progressive)?;
    let ms = time(a.iters, || (), |()| codec::decode(&progressive, &limits));
    println!("progressive jpeg decode\t{ms:.3}");
    let large_progressive = encoded(&a.large_progressive)?;
    // A 256 px thumbnail decodes at 1/8 (a progressive file's DC scans alone); a 1024 px
    // preview at 1/2 (every scan).
    for (name, jpeg, side) in [
        ("thumbnail of the large jpeg", &large, 256),
        (
            "thumbnail of the large progressive jpeg",
            &large_progressive,
            256,
        ),
        (
            "1024 px preview of the large progressive jpeg",
            &large_progressive,
            1024,
        ),
    ] {
        let thumb = Op::Thumbnail(Thumbnail {
            max_width: side,
            max_height: side,
        });
        let ms = time(
            a.iters,
            || (),
            |()| -> Result<DynamicImage> {
                // As the service runs a transform: the decoder learns that the pipeline
                // starts by shrinking, so a JPEG decodes at a reduced DCT scale.
                let pipeline = std::slice::from_ref(&thumb);
                let decoded = codec::decode_for(jpeg, &limits, |w, h| {
                    ops::leading_shrink(pipeline, w, h).map(|r| (r.width as u32, r.height as u32))
                })
                .map_err(anyhow::Error::msg)?;
                ops::run_decoded(decoded, pipeline, &limits).map_err(anyhow::Error::msg)
            },
        );
        println!("decode + {name}\t{ms:.3}");
    }
    Ok(())
}
