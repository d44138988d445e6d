package dev.mosaic.client;

import dev.mosaic.image.EncodedImage;
import dev.mosaic.image.Image;
import dev.mosaic.image.ImageFormat;
import dev.mosaic.image.PixelFormat;
import dev.mosaic.image.RawImage;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DataBufferUShort;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * Conversions between the image service's {@link Image} and files, bytes and
 * {@link BufferedImage}s.
 *
 * <p>An {@code Image} travels encoded (the bytes of a JPEG, PNG, ... file) or raw: {@code height}
 * rows of {@code width} pixels, tightly packed, samples interleaved per pixel, 16-bit samples
 * unsigned little-endian ({@code idl/image.thrift}).
 *
 * <pre>{@code
 * Image photo = Images.encoded(Path.of("photo.jpg"));
 * Image pixels = Images.of(bufferedImage);            // raw RGB8, RGBA8, GRAY8 or GRAY16
 * BufferedImage back = Images.toBufferedImage(result);
 * byte[] jpeg = Images.toBytes(result);               // the file's bytes, or the raw pixels
 * }</pre>
 */
public final class Images {
    private Images() {}

    /** The bytes of an image file; the server detects the format. The array is not copied. */
    public static Image encoded(byte[] data) {
        Objects.requireNonNull(data, "data");
        return Image.encoded(EncodedImage.newBuilder().setData(ByteBuffer.wrap(data)).build());
    }

    /** The bytes of an image file in {@code format}. The array is not copied. */
    public static Image encoded(byte[] data, ImageFormat format) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(format, "format");
        return Image.encoded(EncodedImage.newBuilder().setData(ByteBuffer.wrap(data)).setFormat(format).build());
    }

    /**
     * The contents of the image file at {@code path}; the server detects the format.
     *
     * @throws IOException if the file cannot be read
     */
    public static Image encoded(Path path) throws IOException {
        return encoded(Files.readAllBytes(Objects.requireNonNull(path, "path")));
    }

    /**
     * Raw pixels: {@code height} rows of {@code width} pixels of {@code format}, tightly packed.
     * The array is not copied.
     *
     * @throws IllegalArgumentException if {@code pixels} does not hold exactly
     *     {@code width * height * bytesPerPixel(format)} bytes
     */
    public static Image raw(int width, int height, PixelFormat format, byte[] pixels) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(pixels, "pixels");
        if (width < 0 || height < 0) {
            throw new IllegalArgumentException("negative size " + width + "x" + height);
        }
        long expected = (long) width * height * bytesPerPixel(format);
        if (pixels.length != expected) {
            throw new IllegalArgumentException("a " + width + "x" + height + " " + format + " image has " + expected
                + " bytes of pixels, not " + pixels.length);
        }
        return Image.raw(RawImage.newBuilder()
            .setWidth(width)
            .setHeight(height)
            .setPixel_format(format)
            .setPixels(ByteBuffer.wrap(pixels))
            .build());
    }

    /**
     * {@code image}'s pixels as a raw image: GRAY8 or GRAY16 for single-band gray images
     * ({@code TYPE_BYTE_GRAY}, {@code TYPE_USHORT_GRAY}), samples as they are; otherwise RGBA8
     * when it has alpha and RGB8 when not, from its sRGB values (non-premultiplied).
     */
    public static Image of(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        int width = image.getWidth();
        int height = image.getHeight();
        ColorModel model = image.getColorModel();
        Raster raster = image.getRaster();
        if (raster.getNumBands() == 1 && !model.hasAlpha()
                && model.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            int bits = raster.getSampleModel().getSampleSize(0);
            if (bits == 8 || bits == 16) {
                int[] samples = raster.getSamples(0, 0, width, height, 0, (int[]) null);
                if (bits == 8) {
                    byte[] pixels = new byte[samples.length];
                    for (int i = 0; i < samples.length; i++) {
                        pixels[i] = (byte) samples[i];
                    }
                    return raw(width, height, PixelFormat.GRAY8, pixels);
                }
                byte[] pixels = new byte[samples.length * 2];
                for (int i = 0; i < samples.length; i++) {
                    pixels[2 * i] = (byte) samples[i];
                    pixels[2 * i + 1] = (byte) (samples[i] >>> 8);
                }
                return raw(width, height, PixelFormat.GRAY16, pixels);
            }
        }
        int[] argb = image.getRGB(0, 0, width, height, null, 0, width);
        boolean alpha = model.hasAlpha();
        int channels = alpha ? 4 : 3;
        byte[] pixels = new byte[argb.length * channels];
        int at = 0;
        for (int pixel : argb) {
            pixels[at++] = (byte) (pixel >>> 16);
            pixels[at++] = (byte) (pixel >>> 8);
            pixels[at++] = (byte) pixel;
            if (alpha) {
                pixels[at++] = (byte) (pixel >>> 24);
            }
        }
        return raw(width, height, alpha ? PixelFormat.RGBA8 : PixelFormat.RGB8, pixels);
    }

    /**
     * {@code image} as a {@code BufferedImage}. Raw GRAY8 becomes {@code TYPE_BYTE_GRAY}, GRAY16
     * {@code TYPE_USHORT_GRAY} (samples exact), RGB8 {@code TYPE_INT_RGB}, RGBA8 and GRAYA8
     * {@code TYPE_INT_ARGB}. Encoded images are decoded with {@link ImageIO}.
     *
     * @throws IllegalArgumentException for other raw pixel formats (ask the server for one of
     *     these with {@code Outputs.raw(PixelFormat.RGB8)}), pixels of the wrong size, or encoded
     *     bytes ImageIO cannot read
     */
    public static BufferedImage toBufferedImage(Image image) {
        Objects.requireNonNull(image, "image");
        if (image.isSetEncoded()) {
            byte[] data = bytes(image.getEncoded().getData());
            BufferedImage decoded;
            try {
                decoded = ImageIO.read(new ByteArrayInputStream(data));
            } catch (IOException e) {
                throw new IllegalArgumentException("ImageIO cannot decode the image: " + e.getMessage(), e);
            }
            if (decoded == null) {
                throw new IllegalArgumentException("ImageIO reads no format of this image (" + data.length + " bytes)");
            }
            return decoded;
        }
        RawImage raw = raw(image);
        int width = raw.getWidth();
        int height = raw.getHeight();
        PixelFormat format = raw.getPixel_format();
        byte[] pixels = bytes(raw.getPixels());
        if (format == null) {
            throw new IllegalArgumentException("the raw image has no pixel format");
        }
        long expected = (long) width * height * bytesPerPixel(format);
        if (width < 0 || height < 0 || pixels.length != expected) {
            throw new IllegalArgumentException("a " + width + "x" + height + " " + format + " image has " + expected
                + " bytes of pixels, not " + pixels.length);
        }
        int count = width * height;
        switch (format.getValue()) {
            case 1: { // GRAY8
                BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
                byte[] data = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
                System.arraycopy(pixels, 0, data, 0, count);
                return out;
            }
            case 3: { // GRAY16
                BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_USHORT_GRAY);
                short[] data = ((DataBufferUShort) out.getRaster().getDataBuffer()).getData();
                for (int i = 0; i < count; i++) {
                    data[i] = (short) ((pixels[2 * i] & 0xff) | (pixels[2 * i + 1] & 0xff) << 8);
                }
                return out;
            }
            case 5: { // RGB8
                BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
                int[] data = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
                for (int i = 0, at = 0; i < count; i++, at += 3) {
                    data[i] = (pixels[at] & 0xff) << 16 | (pixels[at + 1] & 0xff) << 8 | (pixels[at + 2] & 0xff);
                }
                return out;
            }
            case 6: { // RGBA8
                BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
                int[] data = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
                for (int i = 0, at = 0; i < count; i++, at += 4) {
                    data[i] = (pixels[at + 3] & 0xff) << 24 | (pixels[at] & 0xff) << 16
                        | (pixels[at + 1] & 0xff) << 8 | (pixels[at + 2] & 0xff);
                }
                return out;
            }
            case 2: { // GRAYA8
                BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
                int[] data = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
                for (int i = 0, at = 0; i < count; i++, at += 2) {
                    int v = pixels[at] & 0xff;
                    data[i] = (pixels[at + 1] & 0xff) << 24 | v << 16 | v << 8 | v;
                }
                return out;
            }
            default:
                throw new IllegalArgumentException("no BufferedImage conversion for raw " + format
                    + ": ask for Outputs.raw(PixelFormat.RGB8), RGBA8, GRAY8 or GRAY16");
        }
    }

    /**
     * The bytes {@code image} carries: an encoded image's file contents (write them to a file
     * as they are), or a raw image's packed pixels. Always a new array.
     */
    public static byte[] toBytes(Image image) {
        Objects.requireNonNull(image, "image");
        if (image.isSetEncoded()) {
            return bytes(image.getEncoded().getData());
        }
        return bytes(raw(image).getPixels());
    }

    /** The size of one pixel of {@code format} in bytes. */
    public static int bytesPerPixel(PixelFormat format) {
        switch (Objects.requireNonNull(format, "format").getValue()) {
            case 1: // GRAY8
                return 1;
            case 2: // GRAYA8
            case 3: // GRAY16
                return 2;
            case 5: // RGB8
                return 3;
            case 4: // GRAYA16
            case 6: // RGBA8
                return 4;
            case 7: // RGB16
                return 6;
            case 8: // RGBA16
                return 8;
            case 9: // RGB32F
                return 12;
            case 10: // RGBA32F
                return 16;
            default:
                throw new IllegalArgumentException("unknown pixel format " + format);
        }
    }

    private static RawImage raw(Image image) {
        if (!image.isSetRaw()) {
            throw new IllegalArgumentException("the Image holds neither encoded nor raw pixels");
        }
        return image.getRaw();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            throw new IllegalArgumentException("the image has no data");
        }
        ByteBuffer view = buffer.duplicate();
        byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        return bytes;
    }
}
