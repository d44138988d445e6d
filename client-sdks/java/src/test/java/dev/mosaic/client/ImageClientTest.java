package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mosaic.common.InvalidArgument;
import dev.mosaic.common.TooLarge;
import dev.mosaic.common.Unsupported;
import dev.mosaic.image.BatchItem;
import dev.mosaic.image.ErrorKind;
import dev.mosaic.image.FlipAxis;
import dev.mosaic.image.Image;
import dev.mosaic.image.ImageFormat;
import dev.mosaic.image.ImageInfo;
import dev.mosaic.image.ImageService;
import dev.mosaic.image.InvalidImage;
import dev.mosaic.image.Op;
import dev.mosaic.image.PixelFormat;
import dev.mosaic.image.ResizeMode;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ImageClient}, {@link Images}, {@link Ops} and {@link Outputs} against
 * {@code mosaic serve image}, and {@code common.TooLarge} from one started with
 * {@code --max-pixels 1000}.
 */
class ImageClientTest {
    private static ServerProcess server;
    private static MosaicClient client;
    private static ImageClient images;

    @BeforeAll
    static void start() throws Exception {
        server = ServerProcess.imageServer(ImageServiceTest.imageServerBinary());
        client = MosaicClient.builder(server.address()).timeout(Duration.ofSeconds(30)).build();
        images = client.imageClient();
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** A picture whose every pixel differs from its neighbours. */
    private static BufferedImage rgb(int width, int height, int type) {
        BufferedImage picture = new BufferedImage(width, height, type);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int alpha = type == BufferedImage.TYPE_INT_ARGB ? (x * 37 + y * 11) & 0xff : 0xff;
                picture.setRGB(x, y, alpha << 24 | (x * 13 & 0xff) << 16 | (y * 29 & 0xff) << 8 | ((x ^ y) * 7 & 0xff));
            }
        }
        return picture;
    }

    private static BufferedImage gray(int width, int height, int type, int step) {
        BufferedImage picture = new BufferedImage(width, height, type);
        WritableRaster raster = picture.getRaster();
        int max = type == BufferedImage.TYPE_USHORT_GRAY ? 0xffff : 0xff;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                raster.setSample(x, y, 0, ((y * width + x) * step) % (max + 1));
            }
        }
        return picture;
    }

    private static byte[] png(int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(rgb(width, height, BufferedImage.TYPE_INT_RGB), "png", out));
        return out.toByteArray();
    }

    private static void assertSameRgb(BufferedImage expected, BufferedImage actual) {
        assertEquals(expected.getWidth(), actual.getWidth());
        assertEquals(expected.getHeight(), actual.getHeight());
        int w = expected.getWidth();
        int h = expected.getHeight();
        assertArrayEquals(expected.getRGB(0, 0, w, h, null, 0, w), actual.getRGB(0, 0, w, h, null, 0, w));
    }

    private static int[] samples(BufferedImage image) {
        return image.getRaster().getSamples(0, 0, image.getWidth(), image.getHeight(), 0, (int[]) null);
    }

    @Test
    void imageClientIsSharedAndExposesTheServices() {
        assertSame(images, client.imageClient());
        assertSame(client.image(), images.blocking());
        assertSame(client.imageAsync(), images.async());
    }

    @Test
    void rgbBufferedImageRoundTripsExactly() throws Exception {
        BufferedImage picture = rgb(37, 23, BufferedImage.TYPE_INT_RGB);
        Image raw = Images.of(picture);
        assertEquals(PixelFormat.RGB8, raw.getRaw().getPixel_format());
        assertEquals(37 * 23 * 3, Images.toBytes(raw).length, "tightly packed rows");

        BufferedImage back = images.transform(picture, List.of());
        assertEquals(BufferedImage.TYPE_INT_RGB, back.getType());
        assertSameRgb(picture, back);

        BufferedImage mirrored = images.transform(picture, List.of(Ops.flip(FlipAxis.HORIZONTAL)));
        for (int y = 0; y < 23; y++) {
            for (int x = 0; x < 37; x++) {
                assertEquals(picture.getRGB(36 - x, y), mirrored.getRGB(x, y), "pixel " + x + "," + y);
            }
        }
        // A 3-byte BGR picture goes as RGB8 all the same.
        BufferedImage bgr = new BufferedImage(37, 23, BufferedImage.TYPE_3BYTE_BGR);
        bgr.getGraphics().drawImage(picture, 0, 0, null);
        assertSameRgb(picture, images.transform(bgr, List.of()));
    }

    @Test
    void rgbaBufferedImageKeepsItsAlpha() throws Exception {
        BufferedImage picture = rgb(19, 11, BufferedImage.TYPE_INT_ARGB);
        assertEquals(PixelFormat.RGBA8, Images.of(picture).getRaw().getPixel_format());
        BufferedImage back = images.transform(picture, List.of());
        assertEquals(BufferedImage.TYPE_INT_ARGB, back.getType());
        assertSameRgb(picture, back);
    }

    @Test
    void grayBufferedImageRoundTripsAsGray8() throws Exception {
        BufferedImage picture = gray(31, 17, BufferedImage.TYPE_BYTE_GRAY, 7);
        Image raw = Images.of(picture);
        assertEquals(PixelFormat.GRAY8, raw.getRaw().getPixel_format());
        BufferedImage back = images.transform(picture, List.of());
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, back.getType());
        assertArrayEquals(samples(picture), samples(back));

        // The server's grayscale of an RGB picture comes back as pixels a BufferedImage holds.
        BufferedImage grayed = images.transform(rgb(31, 17, BufferedImage.TYPE_INT_RGB), List.of(Ops.grayscale()));
        assertEquals(31, grayed.getWidth());
        int rgb = grayed.getRGB(5, 5);
        assertEquals(rgb & 0xff, rgb >> 8 & 0xff, "gray");
        assertEquals(rgb & 0xff, rgb >> 16 & 0xff, "gray");
    }

    @Test
    void sixteenBitGrayIsExactAndLittleEndian() throws Exception {
        BufferedImage picture = gray(29, 13, BufferedImage.TYPE_USHORT_GRAY, 4099);
        picture.getRaster().setSample(0, 0, 0, 0x1234);
        picture.getRaster().setSample(1, 0, 0, 0xffff);
        Image raw = Images.of(picture);
        assertEquals(PixelFormat.GRAY16, raw.getRaw().getPixel_format());
        byte[] pixels = Images.toBytes(raw);
        assertEquals(29 * 13 * 2, pixels.length);
        assertEquals(0x34, pixels[0] & 0xff, "low byte first");
        assertEquals(0x12, pixels[1] & 0xff);

        BufferedImage back = images.transform(picture, List.of());
        assertEquals(BufferedImage.TYPE_USHORT_GRAY, back.getType());
        assertArrayEquals(samples(picture), samples(back), "every 16-bit sample exact");

        BufferedImage flipped = images.transform(picture, List.of(Ops.flip(FlipAxis.VERTICAL)));
        assertEquals(0x1234, flipped.getRaster().getSample(0, 12, 0));
        assertEquals(0xffff, flipped.getRaster().getSample(1, 12, 0));

        // The server reads the samples as little-endian too: its maximum is 65535, its minimum
        // that of the picture.
        int min = java.util.Arrays.stream(samples(picture)).min().orElseThrow();
        var stats = images.blocking().stats(raw).getChannels().get(0);
        assertEquals(65535.0, stats.getMax());
        assertEquals(min, stats.getMin());
    }

    @Test
    void encodedFileInAndOut(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("in.png");
        Files.write(file, png(40, 30));
        Image input = Images.encoded(file);
        ImageInfo info = images.info(input);
        assertEquals(ImageFormat.PNG, info.getFormat());
        assertEquals(40, info.getWidth());

        Image jpeg = images.transform(input, List.of(Ops.resize(20, 0)), Outputs.jpeg(80));
        Path out = dir.resolve("out.jpg");
        Files.write(out, Images.toBytes(jpeg));
        BufferedImage decoded = ImageIO.read(out.toFile());
        assertEquals(20, decoded.getWidth());
        assertEquals(15, decoded.getHeight(), "FIT keeps the aspect ratio");
        assertEquals(ImageFormat.JPEG, images.info(Images.encoded(Files.readAllBytes(out))).getFormat());

        // Encoded in, raw out; and a BufferedImage from either.
        Image raw = images.transform(input, List.of(Ops.resize(8, 6, ResizeMode.EXACT)), Outputs.raw(PixelFormat.RGBA8));
        assertEquals(PixelFormat.RGBA8, raw.getRaw().getPixel_format());
        assertEquals(8 * 6 * 4, Images.toBytes(raw).length);
        assertEquals(8, Images.toBufferedImage(raw).getWidth());
        BufferedImage png = Images.toBufferedImage(images.transform(input, List.of(), Outputs.png()));
        assertSameRgb(rgb(40, 30, BufferedImage.TYPE_INT_RGB), png);
    }

    @Test
    void rawImagesAreCheckedLocally() {
        assertThrows(IllegalArgumentException.class, () -> Images.raw(4, 4, PixelFormat.RGB8, new byte[47]));
        assertEquals(48, Images.toBytes(Images.raw(4, 4, PixelFormat.RGB8, new byte[48])).length);
        assertEquals(12, Images.bytesPerPixel(PixelFormat.RGB32F));
        Image rgb16 = Images.raw(1, 1, PixelFormat.RGB16, new byte[6]);
        assertThrows(IllegalArgumentException.class, () -> Images.toBufferedImage(rgb16));
    }

    @Test
    void transformAllGivesEachItemItsOwnOutcome() throws Exception {
        List<Image> inputs = List.of(
            Images.encoded(png(40, 28)),
            Images.encoded("not an image".getBytes(StandardCharsets.UTF_8)),
            Images.of(rgb(20, 10, BufferedImage.TYPE_INT_RGB)),
            Images.raw(4, 4, PixelFormat.RGB8, new byte[48]));
        List<Op> ops = List.of(Ops.resize(10, 0));
        List<Result<Image>> results = images.transformAll(inputs, ops, Outputs.raw(PixelFormat.RGB8))
            .get(60, TimeUnit.SECONDS);
        assertEquals(4, results.size());
        assertTrue(results.get(0).isSuccess());
        assertEquals(10, results.get(0).value().getRaw().getWidth());
        assertEquals(7, results.get(0).value().getRaw().getHeight());
        assertFalse(results.get(1).isSuccess());
        assertInstanceOf(InvalidImage.class, results.get(1).error());
        assertThrows(InvalidImage.class, results.get(1)::get);
        assertThrows(IllegalStateException.class, results.get(1)::value);
        assertEquals(5, results.get(2).value().getRaw().getHeight());
        assertEquals(10, Images.toBufferedImage(results.get(3).value()).getHeight());

        // The server's own batch call, plainly.
        List<BatchItem> items = images.transformBatch(inputs, ops, Outputs.png());
        assertEquals(4, items.size());
        assertEquals(7, Images.toBufferedImage(items.get(0).getImage()).getHeight());
        assertTrue(items.get(1).isSetError());
        assertEquals(ErrorKind.INVALID_IMAGE, items.get(1).getError().getKind());
        assertEquals(5, Images.toBufferedImage(items.get(2).getImage()).getHeight());
        assertEquals(4, images.transformBatchAsync(inputs, ops, null).get(60, TimeUnit.SECONDS).size());

        assertTrue(images.transformAll(List.of(), ops, null).get(10, TimeUnit.SECONDS).isEmpty());
    }

    /** An async service that counts the calls it has in flight. */
    private static final class Counting {
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicInteger calls = new AtomicInteger();
        final ImageService.AsyncIface service;

        Counting(ImageService.AsyncIface target) {
            service = (ImageService.AsyncIface) Proxy.newProxyInstance(ImageService.AsyncIface.class.getClassLoader(),
                new Class<?>[] {ImageService.AsyncIface.class}, (proxy, method, args) -> {
                    int now = inFlight.incrementAndGet();
                    maxInFlight.accumulateAndGet(now, Math::max);
                    calls.incrementAndGet();
                    CompletableFuture<?> call;
                    try {
                        call = (CompletableFuture<?>) method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        inFlight.decrementAndGet();
                        throw e.getCause();
                    }
                    return call.whenComplete((value, error) -> inFlight.decrementAndGet());
                });
        }
    }

    @Test
    void transformAllKeepsAtMostMaxInFlightCalls() throws Exception {
        Counting counting = new Counting(client.imageAsync());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        AtomicInteger handled = new AtomicInteger();
        ImageClient bounded = new ImageClient(client.image(), counting.service, task -> {
            handled.incrementAndGet();
            pool.execute(task);
        });
        List<Image> inputs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            inputs.add(Images.of(rgb(100 + i, 80, BufferedImage.TYPE_INT_RGB)));
        }
        inputs.set(17, Images.encoded(new byte[] {1, 2, 3}));
        List<Result<Image>> results;
        try {
            results = bounded.transformAll(inputs, List.of(Ops.blur(3.0)), Outputs.raw(), 3).get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdown();
        }
        assertEquals(40, handled.get(), "every completed call is handled on the executor");
        assertEquals(40, counting.calls.get());
        assertTrue(counting.maxInFlight.get() <= 3, "at most 3 in flight, saw " + counting.maxInFlight.get());
        assertTrue(counting.maxInFlight.get() >= 2, "calls overlap, saw " + counting.maxInFlight.get());
        assertEquals(0, counting.inFlight.get());
        for (int i = 0; i < 40; i++) {
            if (i == 17) {
                assertInstanceOf(InvalidImage.class, results.get(i).error());
            } else {
                assertEquals(100 + i, results.get(i).value().getRaw().getWidth(), "result " + i + " in input order");
            }
        }
    }

    @Test
    void transformEachReadsItsSourceLazilyAndDeliversInOrder() throws Exception {
        int count = 25;
        int window = 4;
        AtomicInteger taken = new AtomicInteger();
        Iterator<Image> source = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return taken.get() < count;
            }

            @Override
            public Image next() {
                int i = taken.getAndIncrement();
                return i == 3 ? Images.encoded(new byte[] {9}) : Images.of(gray(10 + i, 10, BufferedImage.TYPE_BYTE_GRAY, 1));
            }
        };
        List<Result<Image>> seen = new ArrayList<>();
        List<Integer> ahead = new ArrayList<>();
        images.transformEach(source, List.of(Ops.invert()), null, window, result -> {
            synchronized (seen) {
                ahead.add(taken.get() - seen.size());
                seen.add(result);
            }
        }).get(60, TimeUnit.SECONDS);
        assertEquals(count, seen.size());
        for (int i = 0; i < count; i++) {
            if (i == 3) {
                assertInstanceOf(InvalidImage.class, seen.get(i).error());
            } else {
                assertEquals(10 + i, seen.get(i).value().getRaw().getWidth());
            }
        }
        for (int n : ahead) {
            assertTrue(n >= 1 && n <= window, "images taken but not delivered: " + ahead);
        }

        // A source that throws fails the stream, not the calls already made.
        CompletableFuture<Void> failing = images.transformEach(new Iterator<Image>() {
            int given;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Image next() {
                if (given++ == 2) {
                    throw new IllegalStateException("source broke");
                }
                return Images.encoded(new byte[] {1});
            }
        }, List.of(), null, 2, result -> { });
        ExecutionException e = assertThrows(ExecutionException.class, () -> failing.get(60, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertThrows(IllegalArgumentException.class,
            () -> images.transformEach(List.<Image>of().iterator(), List.of(), null, 0, result -> { }));
    }

    @Test
    void declaredExceptionsComeThroughTyped() throws Exception {
        Image garbage = Images.encoded("garbage".getBytes(StandardCharsets.UTF_8));
        InvalidImage invalid = assertThrows(InvalidImage.class, () -> images.transform(garbage, List.of(), null));
        assertNotNull(invalid.getMessage());
        assertThrows(InvalidImage.class, () -> images.info(garbage));

        Image picture = Images.encoded(png(40, 30));
        InvalidArgument badWidth = assertThrows(InvalidArgument.class,
            () -> images.transform(picture, List.of(Ops.blur(1.0), Ops.resize(-5, 10)), null));
        assertEquals("ops[1].resize.width", badWidth.getField());
        InvalidArgument badSigma = assertThrows(InvalidArgument.class,
            () -> images.transform(picture, List.of(Ops.blur(0)), null));
        assertEquals("ops[0].blur.sigma", badSigma.getField());

        // The same through a future, and as a batch that fails as a whole for a bad pipeline.
        ExecutionException async = assertThrows(ExecutionException.class,
            () -> images.transformAsync(picture, List.of(Ops.resize(-5, 10)), null).get(30, TimeUnit.SECONDS));
        assertEquals("ops[0].resize.width", assertInstanceOf(InvalidArgument.class, async.getCause()).getField());
        InvalidArgument batch = assertThrows(InvalidArgument.class,
            () -> images.transformBatch(List.of(picture), List.of(Ops.resize(-5, 10)), null));
        assertEquals("ops[0].resize.width", batch.getField());
        List<Result<Image>> results = images.transformAll(List.of(picture), List.of(Ops.blur(-1)), null)
            .get(30, TimeUnit.SECONDS);
        assertEquals("ops[0].blur.sigma", assertInstanceOf(InvalidArgument.class, results.get(0).error()).getField());

        // A format code from a newer contract, as input and as output.
        Unsupported unknownOutput = assertThrows(Unsupported.class,
            () -> images.transform(picture, List.of(), Outputs.encode(ImageFormat.findByValue(42))));
        assertEquals("format 42", unknownOutput.getWhat());
        Unsupported unknownInput = assertThrows(Unsupported.class,
            () -> images.transform(Images.encoded(png(40, 30), ImageFormat.findByValue(42)), List.of(), null));
        assertEquals("format 42", unknownInput.getWhat());
        assertEquals(40, images.info(picture).getWidth(), "the server goes on serving");
    }

    @Test
    void tooLargeFromAServerWithAPixelBudget() throws Exception {
        try (ServerProcess small = ServerProcess.imageServer(ImageServiceTest.imageServerBinary(), "--max-pixels", "1000");
                MosaicClient smallClient = MosaicClient.builder(small.address()).build()) {
            ImageClient limited = smallClient.imageClient();
            Image fits = Images.of(rgb(20, 20, BufferedImage.TYPE_INT_RGB));
            Image tooBig = Images.encoded(png(40, 30));
            assertEquals(20, limited.transform(fits, List.of(), null).getRaw().getWidth());

            TooLarge tooLarge = assertThrows(TooLarge.class, () -> limited.transform(tooBig, List.of(), null));
            assertEquals(1000, tooLarge.getLimit());
            assertEquals(1200, tooLarge.getRequested());
            assertThrows(TooLarge.class, () -> limited.transform(fits, List.of(Ops.resize(100, 100, ResizeMode.EXACT)), null),
                "a result above the budget");

            List<Result<Image>> results = limited.transformAll(List.of(fits, tooBig, fits), List.of(), null)
                .get(30, TimeUnit.SECONDS);
            assertTrue(results.get(0).isSuccess());
            assertInstanceOf(TooLarge.class, results.get(1).error());
            assertTrue(results.get(2).isSuccess());

            List<BatchItem> items = limited.transformBatch(List.of(fits, tooBig), List.of(), null);
            assertTrue(items.get(0).isSetImage());
            assertEquals(ErrorKind.TOO_LARGE, items.get(1).getError().getKind());
        }
    }
}
