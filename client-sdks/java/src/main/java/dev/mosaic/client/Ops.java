package dev.mosaic.client;

import dev.mosaic.image.Adjust;
import dev.mosaic.image.AutoOrient;
import dev.mosaic.image.Blur;
import dev.mosaic.image.Convert;
import dev.mosaic.image.Crop;
import dev.mosaic.image.Edges;
import dev.mosaic.image.Equalize;
import dev.mosaic.image.Flip;
import dev.mosaic.image.FlipAxis;
import dev.mosaic.image.Grayscale;
import dev.mosaic.image.Invert;
import dev.mosaic.image.Morphology;
import dev.mosaic.image.MorphologyOp;
import dev.mosaic.image.Op;
import dev.mosaic.image.PixelFormat;
import dev.mosaic.image.Resize;
import dev.mosaic.image.ResizeMode;
import dev.mosaic.image.Rotate;
import dev.mosaic.image.Sharpen;
import dev.mosaic.image.Threshold;
import dev.mosaic.image.ThresholdMethod;
import dev.mosaic.image.Thumbnail;
import dev.mosaic.image.WindowLevel;
import java.util.Objects;

/**
 * Short constructors for the steps of a transform pipeline ({@link Op}), with the IDL's
 * defaults for every setting they leave out:
 *
 * <pre>{@code
 * List<Op> ops = List.of(Ops.autoOrient(), Ops.resize(320, 0), Ops.blur(1.5));
 * }</pre>
 *
 * <p>For settings these do not take, build the struct and wrap it, e.g.
 * {@code Op.rotate(Rotate.newBuilder().setDegrees(30).setExpand(false).build())}.
 */
public final class Ops {
    private Ops() {}

    /** Scale to fit inside {@code width} x {@code height} (0 for either: keep the aspect ratio). */
    public static Op resize(int width, int height) {
        return Op.resize(Resize.newBuilder().setWidth(width).setHeight(height).build());
    }

    /** Scale to {@code width} x {@code height} as {@code mode} says. */
    public static Op resize(int width, int height, ResizeMode mode) {
        Objects.requireNonNull(mode, "mode");
        return Op.resize(Resize.newBuilder().setWidth(width).setHeight(height).setMode(mode).build());
    }

    /** Shrink to fit inside {@code maxWidth} x {@code maxHeight}, never enlarging. */
    public static Op thumbnail(int maxWidth, int maxHeight) {
        return Op.thumbnail(Thumbnail.newBuilder().setMax_width(maxWidth).setMax_height(maxHeight).build());
    }

    /** Keep the rectangle at ({@code x}, {@code y}) of {@code width} x {@code height}. */
    public static Op crop(int x, int y, int width, int height) {
        return Op.crop(Crop.newBuilder().setX(x).setY(y).setWidth(width).setHeight(height).build());
    }

    /** Rotate clockwise by {@code degrees}; the canvas grows to hold the whole image. */
    public static Op rotate(double degrees) {
        return Op.rotate(Rotate.newBuilder().setDegrees(degrees).build());
    }

    /** Mirror along {@code axis}. */
    public static Op flip(FlipAxis axis) {
        Objects.requireNonNull(axis, "axis");
        return Op.flip(Flip.newBuilder().setAxis(axis).build());
    }

    /** Apply the EXIF orientation tag, so the pixels are upright. */
    public static Op autoOrient() {
        return Op.auto_orient(new AutoOrient());
    }

    /** Gaussian blur with standard deviation {@code sigma} pixels (&gt; 0). */
    public static Op blur(double sigma) {
        return Op.blur(Blur.newBuilder().setSigma(sigma).build());
    }

    /** Unsharp mask with the IDL's defaults (sigma 1, amount 1, threshold 0). */
    public static Op sharpen() {
        return Op.sharpen(new Sharpen());
    }

    /** Unsharp mask adding {@code amount} times the detail at scale {@code sigma}. */
    public static Op sharpen(double sigma, double amount) {
        return Op.sharpen(Sharpen.newBuilder().setSigma(sigma).setAmount(amount).build());
    }

    /** Brightness (0: none), contrast (1: none) and gamma (1: none). */
    public static Op adjust(double brightness, double contrast, double gamma) {
        return Op.adjust(Adjust.newBuilder().setBrightness(brightness).setContrast(contrast).setGamma(gamma).build());
    }

    /** Convert to grayscale, keeping the sample depth and any alpha. */
    public static Op grayscale() {
        return Op.grayscale(new Grayscale());
    }

    /** Invert the colour samples (not alpha). */
    public static Op invert() {
        return Op.invert(new Invert());
    }

    /** Binarise with Otsu's threshold (GRAY8 output). */
    public static Op threshold() {
        return Op.threshold(new Threshold());
    }

    /** Binarise at {@code value} in 0..255 (GRAY8 output). */
    public static Op threshold(int value) {
        return Op.threshold(Threshold.newBuilder().setMethod(ThresholdMethod.FIXED).setValue(value).build());
    }

    /** Canny edges with the IDL's thresholds (GRAY8 output). */
    public static Op edges() {
        return Op.edges(new Edges());
    }

    /** Grayscale morphology {@code op} with a square of the given {@code radius}. */
    public static Op morphology(MorphologyOp op, int radius) {
        Objects.requireNonNull(op, "op");
        return Op.morphology(Morphology.newBuilder().setOp(op).setRadius(radius).build());
    }

    /** Histogram equalisation of the grayscale image. */
    public static Op equalize() {
        return Op.equalize(new Equalize());
    }

    /** Map the window {@code center} &plusmn; {@code width}/2 (in sample units) onto GRAY8. */
    public static Op windowLevel(double center, double width) {
        return Op.window_level(WindowLevel.newBuilder().setCenter(center).setWidth(width).build());
    }

    /** Convert to {@code format}, scaling samples between depths. */
    public static Op convert(PixelFormat format) {
        Objects.requireNonNull(format, "format");
        return Op.convert(Convert.newBuilder().setTo(format).build());
    }
}
