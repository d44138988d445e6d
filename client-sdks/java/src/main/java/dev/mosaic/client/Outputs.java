package dev.mosaic.client;

import dev.mosaic.image.Encode;
import dev.mosaic.image.ImageFormat;
import dev.mosaic.image.Output;
import dev.mosaic.image.PixelFormat;
import dev.mosaic.image.Raw;
import java.util.Objects;

/**
 * Short constructors for what a transform returns ({@link Output}). Passing {@code null}
 * instead returns encoded input in its own format and raw input raw.
 */
public final class Outputs {
    private Outputs() {}

    /** Encoded as PNG. */
    public static Output png() {
        return encode(ImageFormat.PNG);
    }

    /** Encoded as JPEG of {@code quality} 1..100. */
    public static Output jpeg(int quality) {
        return Output.encode(Encode.newBuilder().setFormat(ImageFormat.JPEG).setQuality(quality).build());
    }

    /** Encoded as {@code format} (JPEG and WebP at quality 85). */
    public static Output encode(ImageFormat format) {
        Objects.requireNonNull(format, "format");
        return Output.encode(Encode.newBuilder().setFormat(format).build());
    }

    /** Raw pixels in the pixel format the pipeline produced. */
    public static Output raw() {
        return Output.raw(new Raw());
    }

    /** Raw pixels converted to {@code format}. */
    public static Output raw(PixelFormat format) {
        Objects.requireNonNull(format, "format");
        return Output.raw(Raw.newBuilder().setPixel_format(format).build());
    }
}
