package dev.mosaic.client;

import dev.mosaic.image.BatchItem;
import dev.mosaic.image.Image;
import dev.mosaic.image.ImageInfo;
import dev.mosaic.image.ImageService;
import dev.mosaic.image.Op;
import dev.mosaic.image.Output;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.apache.thrift.TException;

/**
 * The image service ({@code idl/image.thrift}) with typed conveniences: {@code BufferedImage}s
 * in and out, and batches of async calls with bounded concurrency, each item with its own
 * outcome. Get it from {@link MosaicClient#imageClient()}; it is thread-safe.
 *
 * <pre>{@code
 * ImageClient images = client.imageClient();
 * BufferedImage small = images.transform(picture, List.of(Ops.resize(320, 0), Ops.blur(1.0)));
 * Image jpeg = images.transform(Images.encoded(Path.of("photo.png")), List.of(Ops.thumbnail(256, 256)), Outputs.jpeg(80));
 *
 * List<Result<Image>> results = images.transformAll(inputs, List.of(Ops.grayscale()), Outputs.png()).join();
 * }</pre>
 *
 * <p>Blocking methods run on the client's pooled connections and throw what
 * {@link MosaicClient#image()} throws: the exceptions the IDL declares ({@code InvalidImage},
 * {@code common.InvalidArgument}, {@code common.TooLarge}, ...) unchanged, and
 * {@link MosaicException}s for failures of the connection. Async methods are pipelined on
 * {@link MosaicClient#imageAsync()}'s connections, and their futures fail with the same errors.
 */
public final class ImageClient {
    /** How many calls {@link #transformAll(List, List, Output)} keeps in flight. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 16;

    private final ImageService.Iface blocking;
    private final ImageService.AsyncIface async;
    private final Executor executor;

    /**
     * An image client over the given services, e.g. {@code client.image()} and
     * {@code client.imageAsync()} (which {@link MosaicClient#imageClient()} uses), whose batches
     * run their results' handling on {@code CompletableFuture}'s default async executor.
     */
    public ImageClient(ImageService.Iface blocking, ImageService.AsyncIface async) {
        this(blocking, async, new CompletableFuture<Void>().defaultExecutor());
    }

    /**
     * An image client whose batches ({@code transformAll}, {@code transformEach}) handle each
     * completed call on {@code executor}: delivering results in order and starting the next
     * calls (which writes their requests) happen there, never on a connection's reader thread.
     */
    public ImageClient(ImageService.Iface blocking, ImageService.AsyncIface async, Executor executor) {
        this.blocking = Objects.requireNonNull(blocking, "blocking");
        this.async = Objects.requireNonNull(async, "async");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    /** The blocking service underneath, for the calls this class has no shortcut for. */
    public ImageService.Iface blocking() {
        return blocking;
    }

    /** The async service underneath. */
    public ImageService.AsyncIface async() {
        return async;
    }

    /**
     * Size, format and orientation of {@code image}.
     *
     * @throws TException the service's declared exceptions ({@code InvalidImage}, ...) or a
     *     {@link MosaicException}
     */
    public ImageInfo info(Image image) throws TException {
        return blocking.info(image);
    }

    /**
     * Runs {@code ops} on {@code image} and returns the result as {@code output} says (see
     * {@link Outputs}; {@code null}: encoded input in its own format, raw input raw).
     *
     * @throws TException the service's declared exceptions ({@code InvalidImage},
     *     {@code common.InvalidArgument} naming the offending field, {@code common.TooLarge},
     *     ...) or a {@link MosaicException}
     */
    public Image transform(Image image, List<Op> ops, Output output) throws TException {
        return blocking.transform(image, List.copyOf(ops), output);
    }

    /**
     * Runs {@code ops} on {@code image}'s pixels, sent raw as {@link Images#of(BufferedImage)}
     * says, and returns the raw result as a {@code BufferedImage}
     * ({@link Images#toBufferedImage(Image)}).
     *
     * @throws TException as {@link #transform(Image, List, Output)} does
     * @throws IllegalArgumentException if the pipeline produced a pixel format without a
     *     {@code BufferedImage} conversion (end it with {@code Ops.convert(PixelFormat.RGB8)})
     */
    public BufferedImage transform(BufferedImage image, List<Op> ops) throws TException {
        return Images.toBufferedImage(transform(Images.of(image), ops, Outputs.raw()));
    }

    /** {@link #transform(Image, List, Output)}, pipelined: the future fails with what it throws. */
    public CompletableFuture<Image> transformAsync(Image image, List<Op> ops, Output output) {
        return async.transform(image, List.copyOf(ops), output);
    }

    /**
     * The server's {@code transform_batch}: {@code ops} on every image, in parallel on the
     * server, in one call. Each {@link BatchItem} holds its image or its {@code ItemError}, in
     * the order of {@code images}; only a bad pipeline or an oversized batch fails the call.
     *
     * @throws TException {@code common.InvalidArgument}, {@code common.TooLarge} (too many
     *     images), {@code common.Unsupported}, {@code common.Overloaded} or a
     *     {@link MosaicException}
     */
    public List<BatchItem> transformBatch(List<Image> images, List<Op> ops, Output output) throws TException {
        return blocking.transform_batch(List.copyOf(images), List.copyOf(ops), output);
    }

    /** {@link #transformBatch(List, List, Output)}, pipelined: the future fails with what it throws. */
    public CompletableFuture<List<BatchItem>> transformBatchAsync(List<Image> images, List<Op> ops, Output output) {
        return async.transform_batch(List.copyOf(images), List.copyOf(ops), output);
    }

    /**
     * {@link #transformAll(List, List, Output, int)} with at most {@link #DEFAULT_MAX_IN_FLIGHT}
     * calls in flight.
     */
    public CompletableFuture<List<Result<Image>>> transformAll(List<Image> images, List<Op> ops, Output output) {
        return transformAll(images, ops, output, DEFAULT_MAX_IN_FLIGHT);
    }

    /**
     * Runs {@code ops} on every image, one pipelined {@code transform} call per image with at
     * most {@code maxInFlight} in flight, and completes with each image's {@link Result} in the
     * order of {@code images}. One image's failure ({@code InvalidImage}, a timeout, ...) is that
     * item's result and never fails the batch; the future itself completes normally.
     * Cancelling it starts no more calls.
     *
     * @param maxInFlight the most calls running at once, at least 1
     */
    public CompletableFuture<List<Result<Image>>> transformAll(List<Image> images, List<Op> ops, Output output,
            int maxInFlight) {
        List<Image> inputs = new ArrayList<>(Objects.requireNonNull(images, "images"));
        List<Result<Image>> results = Collections.synchronizedList(new ArrayList<>(inputs.size()));
        CompletableFuture<Void> done = transformEach(inputs.iterator(), ops, output, maxInFlight, results::add);
        CompletableFuture<List<Result<Image>>> all = done.thenApply(ignored -> {
            synchronized (results) {
                return List.copyOf(results);
            }
        });
        all.whenComplete((value, error) -> {
            if (all.isCancelled()) {
                done.cancel(false);
            }
        });
        return all;
    }

    /**
     * The streaming form of {@link #transformAll(List, List, Output, int)}: hands each image's
     * {@link Result} to {@code onResult} in the order of the images, once per image, one at a
     * time. Images are taken from {@code images} only as calls may start, and at most
     * {@code maxInFlight} are taken and not yet delivered (in flight, or done and waiting for an
     * earlier one), so at most that many calls are in flight and a lazy iterator keeps at most
     * that many images and results in memory.
     *
     * <p>{@code onResult} runs on the caller's thread for results that are ready at once, else on
     * this client's executor (see {@link #ImageClient(ImageService.Iface, ImageService.AsyncIface,
     * Executor)}), which also starts the next calls: keep it short. The returned
     * future completes when every result was delivered; it fails (and starts no more calls) if
     * {@code images} or {@code onResult} throws. Cancelling it starts no more calls.
     *
     * @param maxInFlight the most calls running at once, at least 1
     */
    public CompletableFuture<Void> transformEach(Iterator<? extends Image> images, List<Op> ops, Output output,
            int maxInFlight, Consumer<? super Result<Image>> onResult) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(onResult, "onResult");
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
        }
        List<Op> pipeline = List.copyOf(ops);
        return BoundedCalls.run(images, image -> async.transform(image, pipeline, output), maxInFlight, onResult, executor);
    }

    @Override
    public String toString() {
        return "ImageClient(" + blocking + ")";
    }
}
