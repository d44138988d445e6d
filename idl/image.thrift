/**
 * The image service: inspect, transform and analyse images.
 *
 * Images travel either encoded (the bytes of a JPEG, PNG, ... file) or as raw pixels
 * (row-major, tightly packed, little-endian samples: a numpy array's buffer as is). A
 * transform decodes once, runs its whole pipeline of operations, and encodes once.
 *
 * Compatibility: operations are a union, so new operations extend the contract without
 * breaking old clients. A server older than an operation answers `common.Unsupported`
 * with `what` = "op N" (N its field id); the same holds for new kinds of `Image` ("image
 * N") and `Output` ("output N"). Values of enums it does not know (formats, filters, ...)
 * get `common.Unsupported` or `common.InvalidArgument` naming the field.
 */

include "common.thrift"

namespace rs mosaic.image
namespace py mosaic.image
namespace java dev.mosaic.image

// ---- images -------------------------------------------------------------------------

/** Container formats of encoded images. */
enum ImageFormat {
  JPEG = 1
  PNG = 2
  WEBP = 3
  GIF = 4
  BMP = 5
  TIFF = 6
}

/**
 * Layouts of raw pixels. Samples are interleaved per pixel; 16-bit samples are unsigned
 * little-endian (numpy `<u2`), float samples are little-endian IEEE 754 (`<f4`), nominally
 * in 0..1.
 */
enum PixelFormat {
  GRAY8 = 1
  GRAYA8 = 2
  GRAY16 = 3
  GRAYA16 = 4
  RGB8 = 5
  RGBA8 = 6
  RGB16 = 7
  RGBA16 = 8
  RGB32F = 9
  RGBA32F = 10
}

/** The bytes of an image file. */
struct EncodedImage {
  1: required binary data
  /** The format, if the caller knows it; otherwise the server detects it from the bytes. */
  2: optional ImageFormat format
}

/**
 * Decoded pixels: `height` rows of `width` pixels, with no padding between rows, so
 * `pixels` holds exactly width * height * bytes-per-pixel bytes.
 */
struct RawImage {
  1: required i32 width
  2: required i32 height
  3: required PixelFormat pixel_format
  4: required binary pixels
}

/** An image as it travels: encoded or raw. */
union Image {
  1: EncodedImage encoded
  2: RawImage raw
}

/** A colour with components in 0..1, whatever the image's sample type. */
struct Color {
  1: required double r
  2: required double g
  3: required double b
  4: optional double a = 1.0
}

/** What `info` finds out about an image. */
struct ImageInfo {
  1: required i32 width
  2: required i32 height
  /** Absent for raw images. */
  3: optional ImageFormat format
  /** The pixel format the image decodes to. */
  4: required PixelFormat pixel_format
  /** The EXIF orientation tag (1 to 8), when the image carries one. */
  5: optional i32 orientation
  /** The size of the image as sent, in bytes. */
  6: required i64 size_bytes
}

// ---- operations -----------------------------------------------------------------------

enum ResizeMode {
  /** Scale to fit inside width x height, keeping the aspect ratio. */
  FIT = 1
  /** Scale to cover width x height, keeping the aspect ratio, then crop the centre. */
  FILL = 2
  /** Scale to exactly width x height. */
  EXACT = 3
}

enum Filter {
  NEAREST = 1
  BILINEAR = 2
  BICUBIC = 3
  LANCZOS3 = 4
}

/**
 * Resize. With FIT, a width or height of 0 means "whatever keeps the aspect ratio".
 */
struct Resize {
  1: required i32 width
  2: required i32 height
  3: optional ResizeMode mode = ResizeMode.FIT
  4: optional Filter filter = Filter.LANCZOS3
}

/**
 * Shrink to fit inside max_width x max_height, never enlarging. For JPEG input the server
 * may decode at reduced scale, which makes thumbnails of large photos cheap.
 */
struct Thumbnail {
  1: required i32 max_width
  2: required i32 max_height
}

/** Keep the rectangle at (x, y) of width x height; it must lie inside the image. */
struct Crop {
  1: required i32 x
  2: required i32 y
  3: required i32 width
  4: required i32 height
}

/**
 * Rotate clockwise by any angle. Multiples of 90 are exact and lossless; other angles are
 * interpolated, and the canvas grows to hold the whole rotated image when `expand` is set.
 */
struct Rotate {
  1: required double degrees
  2: optional bool expand = true
  /** The colour of the uncovered corners; transparent black when absent. */
  3: optional Color background
  4: optional Filter filter = Filter.BILINEAR
}

enum FlipAxis {
  /** Mirror left to right. */
  HORIZONTAL = 1
  /** Mirror top to bottom. */
  VERTICAL = 2
}

struct Flip {
  1: required FlipAxis axis
}

/** Apply the EXIF orientation tag, so the pixels are upright; no-op without the tag. */
struct AutoOrient {
}

/** Gaussian blur. */
struct Blur {
  /** The standard deviation in pixels, > 0. */
  1: required double sigma
}

/** Unsharp mask: adds `amount` times (image - blurred) where that exceeds `threshold`. */
struct Sharpen {
  1: optional double sigma = 1.0
  2: optional double amount = 1.0
  /** In 0..1 of the sample range. */
  3: optional double threshold = 0.0
}

/**
 * Brightness, contrast and gamma, applied in that order to samples normalised to 0..1:
 * v = ((v + brightness - 0.5) * contrast + 0.5) ^ (1 / gamma).
 */
struct Adjust {
  1: optional double brightness = 0.0
  2: optional double contrast = 1.0
  3: optional double gamma = 1.0
}

/** Convert to grayscale (Rec. 601 luma), keeping the sample depth and any alpha. */
struct Grayscale {
}

/** Invert colour samples (not alpha). */
struct Invert {
}

enum ThresholdMethod {
  /** `value` is the threshold. */
  FIXED = 1
  /** The threshold that best separates the histogram's two classes. */
  OTSU = 2
  /** Each pixel against the mean of its (2 * block_radius + 1)^2 neighbourhood, minus `offset`. */
  ADAPTIVE = 3
}

/** Binarise: grayscale first, then foreground 255 and background 0 (GRAY8 output). */
struct Threshold {
  1: optional ThresholdMethod method = ThresholdMethod.OTSU
  /** FIXED: the threshold in 0..255 (of the 8-bit range, also for 16-bit input). */
  2: optional i32 value = 128
  /** ADAPTIVE: the neighbourhood radius in pixels. */
  3: optional i32 block_radius = 7
  /** ADAPTIVE: subtracted from the neighbourhood mean. */
  4: optional i32 offset = 0
  /** Make dark pixels the foreground. */
  5: optional bool invert = false
}

enum EdgeMethod {
  CANNY = 1
  /** The gradient magnitude of the Sobel operator, saturated at 255. */
  SOBEL = 2
}

/** Edge detection on the grayscale image; GRAY8 output. */
struct Edges {
  1: optional EdgeMethod method = EdgeMethod.CANNY
  /** CANNY: hysteresis thresholds on the gradient magnitude. */
  2: optional double low = 50.0
  3: optional double high = 100.0
}

enum MorphologyOp {
  ERODE = 1
  DILATE = 2
  /** Erode then dilate: removes specks. */
  OPEN = 3
  /** Dilate then erode: fills holes. */
  CLOSE = 4
}

/** Grayscale morphology with a square structuring element of the given radius. */
struct Morphology {
  1: required MorphologyOp op
  2: optional i32 radius = 1
}

/** Histogram equalisation of the grayscale image. */
struct Equalize {
}

/**
 * Map a window of sample values onto the output range, as radiology viewers do with 16-bit
 * images: values below center - width/2 become black, above center + width/2 white.
 * `center` and `width` are in the input's sample units (0..65535 for 16-bit).
 */
struct WindowLevel {
  1: required double center
  2: required double width
  /** GRAY8 (the default) or GRAY16. */
  3: optional PixelFormat output = PixelFormat.GRAY8
}

/** Convert to another pixel format, scaling samples between depths. */
struct Convert {
  1: required PixelFormat to
}

/** One step of a transform pipeline. */
union Op {
  1: Resize resize
  2: Thumbnail thumbnail
  3: Crop crop
  4: Rotate rotate
  5: Flip flip
  6: AutoOrient auto_orient
  7: Blur blur
  8: Sharpen sharpen
  9: Adjust adjust
  10: Grayscale grayscale
  11: Invert invert
  12: Threshold threshold
  13: Edges edges
  14: Morphology morphology
  15: Equalize equalize
  16: WindowLevel window_level
  17: Convert convert
}

/** Encode the result in `format`. */
struct Encode {
  1: required ImageFormat format
  /** JPEG and WebP (both lossy): 1..100. PNG, TIFF, GIF and BMP are lossless. */
  2: optional i32 quality = 85
}

/** Return the result as raw pixels, converted to `pixel_format` when given. */
struct Raw {
  1: optional PixelFormat pixel_format
}

/**
 * What a transform returns. When absent: encoded input comes back in its own format
 * (PNG if that format cannot be encoded), raw input comes back raw.
 */
union Output {
  1: Encode encode
  2: Raw raw
}

// ---- batches ------------------------------------------------------------------------------

enum ErrorKind {
  INVALID_IMAGE = 1
  UNSUPPORTED = 2
  INVALID_ARGUMENT = 3
  TOO_LARGE = 4
  INTERNAL = 5
}

/** Why one item of a batch failed. */
struct ItemError {
  1: required ErrorKind kind
  2: required string message
  /** For INVALID_ARGUMENT: the offending field, as in `common.InvalidArgument`. */
  3: optional string field
}

/** One item's outcome: its image, or why it failed. */
union BatchItem {
  1: Image image
  2: ItemError error
}

// ---- analysis -------------------------------------------------------------------------------

/** Counts of sample values of one channel, in `bins` equal-width bins over its range. */
struct ChannelHistogram {
  /** `gray`, `r`, `g`, `b` or `a`. */
  1: required string channel
  2: required list<i64> counts
}

struct Histogram {
  1: required list<ChannelHistogram> channels
}

/** Statistics of one channel, in its sample units (0..255, 0..65535 or 0..1). */
struct ChannelStats {
  1: required string channel
  2: required double mean
  /** The population standard deviation. */
  3: required double std
  4: required double min
  5: required double max
}

struct ImageStats {
  1: required i32 width
  2: required i32 height
  3: required list<ChannelStats> channels
}

enum Connectivity {
  FOUR = 4
  EIGHT = 8
}

struct SegmentOptions {
  /** How to separate foreground from background; Otsu's method when absent. */
  1: optional Threshold threshold
  2: optional Connectivity connectivity = Connectivity.EIGHT
  /** Regions smaller than this many pixels are dropped. */
  3: optional i64 min_area = 1
  /** Return the label of every pixel as well. */
  4: optional bool label_image = false
}

struct Rect {
  1: required i32 x
  2: required i32 y
  3: required i32 width
  4: required i32 height
}

struct Point {
  1: required double x
  2: required double y
}

/** A connected component of the foreground. */
struct Region {
  /** 1, 2, ...; 0 is the background in the label image. */
  1: required i32 label
  2: required i64 area
  3: required Rect bbox
  4: required Point centroid
}

/** Per-pixel labels: width * height unsigned 32-bit little-endian values (numpy `<u4`). */
struct LabelImage {
  1: required i32 width
  2: required i32 height
  3: required binary labels
}

struct Segmentation {
  /** Ordered by label. */
  1: required list<Region> regions
  2: optional LabelImage labels
}

/** FAST corner detection on the grayscale image. */
struct FastOptions {
  /** The intensity difference, in 0..255, that makes a pixel of the circle count. */
  1: optional i32 threshold = 20
  /** Keep at most this many corners, the strongest first. */
  2: optional i32 max_corners = 500
}

/** A histogram-of-oriented-gradients descriptor of the image resized to width x height. */
struct HogOptions {
  1: optional i32 width = 64
  2: optional i32 height = 128
  3: optional i32 cell_size = 8
  4: optional i32 block_size = 2
  5: optional i32 orientations = 9
}

struct FeatureOptions {
  1: optional FastOptions fast
  2: optional HogOptions hog
}

struct Keypoint {
  1: required i32 x
  2: required i32 y
  3: required double score
}

struct Features {
  /** Present when `fast` was asked for. */
  1: optional list<Keypoint> corners
  /** Present when `hog` was asked for. */
  2: optional list<double> hog
}

// ---- errors and the service -------------------------------------------------------------------

/** The image could not be decoded: corrupt, truncated, or raw pixels of the wrong size. */
exception InvalidImage {
  1: required string message
}

service ImageService extends common.Health {
  /** Size, format and orientation; reads only the header where the format allows. */
  ImageInfo info(1: Image image)
    throws (1: InvalidImage invalid_image, 2: common.Unsupported unsupported,
            3: common.TooLarge too_large, 4: common.Overloaded overloaded)

  /** Decode once, run `ops` in order, return the result as `output` says. */
  Image transform(1: Image image, 2: list<Op> ops, 3: Output output)
    throws (1: InvalidImage invalid_image, 2: common.Unsupported unsupported,
            3: common.TooLarge too_large, 4: common.Overloaded overloaded,
            5: common.InvalidArgument invalid_argument)

  /**
   * `transform` for each image, in parallel on the server. Each item has its own outcome,
   * in the order of `images`; only a bad pipeline or an oversized batch fails the call.
   */
  list<BatchItem> transform_batch(1: list<Image> images, 2: list<Op> ops, 3: Output output)
    throws (2: common.Unsupported unsupported, 3: common.TooLarge too_large,
            4: common.Overloaded overloaded, 5: common.InvalidArgument invalid_argument)

  /** Per-channel histograms with `bins` bins (256 when absent or 0). */
  Histogram histogram(1: Image image, 2: i32 bins)
    throws (1: InvalidImage invalid_image, 2: common.Unsupported unsupported,
            3: common.TooLarge too_large, 4: common.Overloaded overloaded,
            5: common.InvalidArgument invalid_argument)

  /** Per-channel mean, standard deviation, minimum and maximum. */
  ImageStats stats(1: Image image)
    throws (1: InvalidImage invalid_image, 2: common.Unsupported unsupported,
            3: common.TooLarge too_large, 4: common.Overloaded overloaded)

  /** Threshold, then connected components. */
  Segmentation segment(1: Image image, 2: SegmentOptions options)
    throws (1: InvalidImage invalid_image, 2: common.Unsupported unsupported,
            3: common.TooLarge too_large, 4: common.Overloaded overloaded,
            5: common.InvalidArgument invalid_argument)

  /** Corners and descriptors. */
  Features features(1: Image image, 2: FeatureOptions options)
    throws (1: InvalidImage invalid_image, 2: common.Unsupported unsupported,
            3: common.TooLarge too_large, 4: common.Overloaded overloaded,
            5: common.InvalidArgument invalid_argument)
}
