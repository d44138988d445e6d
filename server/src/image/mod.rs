//! The image service: `ImageService` from `idl/image.thrift`, on `image`, `imageproc` and
//! `fast_image_resize`.
//!
//! Every method decodes and computes on the runtime's bounded CPU pool, never on the
//! reactor; a full pool answers `common.Overloaded` at once. Requests are checked
//! (pipeline parameters, output, budgets) before any pixel work starts.

mod analysis;
mod blur;
mod canny;
pub mod codec;
mod fast;
mod gradients;
mod gray;
mod jpeg_dc;
mod jpeg_decode;
mod jpeg_encode;
mod jpeg_idct;
mod morphology;
pub mod ops;
mod pixels;
mod png_fast;
mod reduce;
mod samples;
mod warp;

use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use image::DynamicImage;
use mosaic_runtime::cpu::CpuPool;

pub use codec::ImageLimits;

use crate::error::ServiceError;
use crate::idl::common::{Health, ServerStatus};
use crate::idl::image::{
    BatchItem, FeatureOptions, Features, FeaturesError, Histogram, HistogramError, Image,
    ImageFormat, ImageInfo, ImageStats, InfoError, Op, Output, SegmentError, SegmentOptions,
    Segmentation, StatsError, TransformBatchError, TransformError,
};
use crate::status::Status;

/// The image service's handler. Serve it with
/// `ImageServiceService::new(ImageHandler::new(...))` (see `mosaic serve image`).
#[derive(Clone)]
pub struct ImageHandler {
    limits: ImageLimits,
    pool: CpuPool,
    status: Arc<Status>,
}

impl ImageHandler {
    /// A handler with `limits`, running its work on the process-wide CPU pool.
    pub fn new(limits: ImageLimits) -> Self {
        ImageHandler::with_pool(limits, CpuPool::global().clone())
    }

    /// A handler running its work on `pool`.
    pub fn with_pool(limits: ImageLimits, pool: CpuPool) -> Self {
        ImageHandler {
            limits,
            pool,
            status: Arc::new(Status::new("image")),
        }
    }

    /// Runs `work` on the CPU pool, counted in the server's status.
    async fn compute<T, F>(&self, work: F) -> Result<T, ServiceError>
    where
        F: FnOnce() -> Result<T, ServiceError> + Send + 'static,
        T: Send + 'static,
    {
        let _call = self.status.enter();
        self.pool.run(work).await?
    }
}

/// How a transform's result leaves the server.
#[derive(Clone, Copy)]
enum OutputPlan {
    Encode(ImageFormat, u8),
    Raw(Option<crate::idl::image::PixelFormat>),
    /// Encoded input in its own format (PNG if that cannot be encoded); raw input raw.
    LikeInput,
}

fn output_plan(output: Option<&Output>) -> Result<OutputPlan, ServiceError> {
    match output {
        None => Ok(OutputPlan::LikeInput),
        Some(Output::Encode(e)) => {
            if !codec::can_encode(e.format) {
                return Err(ServiceError::unsupported(
                    format!("format {}", e.format.0),
                    format!("cannot encode {}", codec::format_name(e.format)),
                ));
            }
            let quality = e.quality.unwrap_or(85);
            if !(1..=100).contains(&quality) {
                return Err(ServiceError::invalid_argument(
                    "output.encode.quality",
                    format!("must be in 1..100, not {quality}"),
                ));
            }
            Ok(OutputPlan::Encode(e.format, quality as u8))
        }
        Some(Output::Raw(r)) => {
            if let Some(f) = r.pixel_format {
                if pixels::bytes_per_pixel(f).is_none() {
                    return Err(ServiceError::invalid_argument(
                        "output.raw.pixel_format",
                        format!("unknown pixel format {}", f.0),
                    ));
                }
            }
            Ok(OutputPlan::Raw(r.pixel_format))
        }
        Some(Output::Unknown(id)) => Err(ServiceError::unsupported(
            format!("output {id}"),
            format!(
                "output kind with field id {id} of union Output is not known to this server (a \
                 client with a newer contract sent it); ask for encode or raw"
            ),
        )),
    }
}

/// Decode, run the pipeline, produce the output: one image's whole transform.
fn transform_one(
    image: &Image,
    ops: &[Op],
    plan: OutputPlan,
    limits: &ImageLimits,
) -> Result<Image, ServiceError> {
    // A pipeline that starts by shrinking lets a JPEG decode at a reduced DCT scale.
    let decoded = codec::decode_for(image, limits, |width, height| {
        ops::leading_shrink(ops, width, height).map(|r| (r.width as u32, r.height as u32))
    })?;
    let input_format = decoded.format;
    let result = ops::run_decoded(decoded, ops, limits)?;
    match plan {
        OutputPlan::Encode(format, quality) => codec::encode(result, format, quality),
        OutputPlan::Raw(pixel_format) => codec::to_raw(result, pixel_format),
        OutputPlan::LikeInput => match input_format {
            Some(f) if codec::can_encode(f) => codec::encode(result, f, 85),
            Some(_) => codec::encode(result, ImageFormat::PNG, 85),
            None => codec::to_raw(result, None),
        },
    }
}

fn decode_for_analysis(
    image: Option<Image>,
    limits: &ImageLimits,
) -> Result<DynamicImage, ServiceError> {
    let image = codec::require(image.as_ref())?;
    Ok(codec::decode(image, limits)?.image)
}

impl Health for ImageHandler {
    async fn ping(&self) -> Result<(), mosaic_runtime::Error> {
        let _call = self.status.enter();
        Ok(())
    }

    async fn status(&self) -> Result<ServerStatus, mosaic_runtime::Error> {
        // The snapshot counts this call as in flight, not yet as served.
        let _call = self.status.enter();
        Ok(self.status.snapshot())
    }
}

impl crate::idl::image::ImageService for ImageHandler {
    async fn info(&self, image: Option<Image>) -> Result<ImageInfo, InfoError> {
        let _call = self.status.enter();
        // Header parsing is cheap and bounded, so it runs inline.
        Ok(codec::info(codec::require(image.as_ref())?)?)
    }

    async fn transform(
        &self,
        image: Option<Image>,
        ops: Vec<Op>,
        output: Option<Output>,
    ) -> Result<Image, TransformError> {
        codec::require(image.as_ref())?;
        ops::validate(&ops)?;
        let plan = output_plan(output.as_ref())?;
        let limits = self.limits;
        Ok(self
            .compute(move || {
                let image = codec::require(image.as_ref())?;
                transform_one(image, &ops, plan, &limits)
            })
            .await?)
    }

    async fn transform_batch(
        &self,
        images: Vec<Image>,
        ops: Vec<Op>,
        output: Option<Output>,
    ) -> Result<Vec<BatchItem>, TransformBatchError> {
        ops::validate(&ops)?;
        let plan = output_plan(output.as_ref())?;
        if images.len() > self.limits.max_batch {
            return Err(ServiceError::TooLarge {
                what: "images in one batch".into(),
                limit: self.limits.max_batch as i64,
                requested: images.len() as i64,
            }
            .into());
        }
        let ops = Arc::new(ops);
        let limits = self.limits;
        // As many items at once as the pool has threads: the batch uses the whole server
        // without flooding the pool's queue (which would turn items into overload errors).
        let parallel = self.pool.threads();
        let items = stream::iter(images.into_iter().map(|image| {
            let ops = Arc::clone(&ops);
            async move {
                let result = self
                    .compute(move || transform_one(&image, &ops, plan, &limits))
                    .await;
                match result {
                    Ok(image) => BatchItem::Image(image),
                    Err(e) => BatchItem::Error(e.to_item_error()),
                }
            }
        }))
        .buffered(parallel)
        .collect()
        .await;
        Ok(items)
    }

    async fn histogram(
        &self,
        image: Option<Image>,
        bins: i32,
    ) -> Result<Histogram, HistogramError> {
        let limits = self.limits;
        Ok(self
            .compute(move || analysis::histogram(&decode_for_analysis(image, &limits)?, bins))
            .await?)
    }

    async fn stats(&self, image: Option<Image>) -> Result<ImageStats, StatsError> {
        let limits = self.limits;
        Ok(self
            .compute(move || Ok(analysis::stats(&decode_for_analysis(image, &limits)?)))
            .await?)
    }

    async fn segment(
        &self,
        image: Option<Image>,
        options: SegmentOptions,
    ) -> Result<Segmentation, SegmentError> {
        let limits = self.limits;
        Ok(self
            .compute(move || analysis::segment(&decode_for_analysis(image, &limits)?, &options))
            .await?)
    }

    async fn features(
        &self,
        image: Option<Image>,
        options: FeatureOptions,
    ) -> Result<Features, FeaturesError> {
        let limits = self.limits;
        Ok(self
            .compute(move || analysis::features(&decode_for_analysis(image, &limits)?, &options))
            .await?)
    }
}
