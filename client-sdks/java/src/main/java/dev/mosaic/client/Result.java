package dev.mosaic.client;

import java.util.Objects;
import org.apache.thrift.TException;

/**
 * The outcome of one item of a batch: its value, or the error that item failed with.
 *
 * <pre>{@code
 * for (Result<Image> result : results) {
 *     if (result.isSuccess()) {
 *         save(result.value());
 *     } else if (result.error() instanceof InvalidImage) {
 *         ...
 *     }
 * }
 * }</pre>
 *
 * @param <T> the type of the value
 */
public final class Result<T> {
    private final T value;
    private final Throwable error;

    private Result(T value, Throwable error) {
        this.value = value;
        this.error = error;
    }

    /** A success with {@code value}. */
    public static <T> Result<T> success(T value) {
        return new Result<>(value, null);
    }

    /** A failure with {@code error}. */
    public static <T> Result<T> failure(Throwable error) {
        return new Result<>(null, Objects.requireNonNull(error, "error"));
    }

    /** Whether the item succeeded. */
    public boolean isSuccess() {
        return error == null;
    }

    /**
     * The value of a success.
     *
     * @throws IllegalStateException for a failure, with its error as the cause
     */
    public T value() {
        if (error != null) {
            throw new IllegalStateException("the item failed: " + error, error);
        }
        return value;
    }

    /**
     * The error of a failure, as a call would throw it: an exception the IDL declares (e.g.
     * {@code InvalidImage}), a {@link MosaicException}, or another {@code TException} or
     * runtime exception; {@code null} for a success.
     */
    public Throwable error() {
        return error;
    }

    /**
     * The value of a success; a failure's error, thrown.
     *
     * @throws TException the failure's error when it is one (declared exceptions included)
     */
    public T get() throws TException {
        if (error == null) {
            return value;
        }
        if (error instanceof TException) {
            throw (TException) error;
        }
        if (error instanceof RuntimeException) {
            throw (RuntimeException) error;
        }
        if (error instanceof Error) {
            throw (Error) error;
        }
        throw new TException(error);
    }

    @Override
    public String toString() {
        return error == null ? "Success(" + value + ")" : "Failure(" + error + ")";
    }
}
