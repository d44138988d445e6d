package dev.mosaic.client;

import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.thrift.TApplicationException;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.transport.TTransportException;

/** What an error a generated client threw means for the call and for its connection. */
final class Failures {
    private Failures() {}

    /**
     * Whether the connection can carry another call after {@code error}: only when the reply
     * was read to its end, which holds for the service's own exceptions and for
     * {@link TApplicationException}s the server sent, but not for those libthrift raises
     * itself in the middle of reading a reply that does not match the call.
     */
    static boolean leavesConnectionUsable(Throwable error) {
        if (error instanceof TApplicationException) {
            int type = ((TApplicationException) error).getType();
            return type != TApplicationException.BAD_SEQUENCE_ID
                && type != TApplicationException.WRONG_METHOD_NAME
                && type != TApplicationException.INVALID_MESSAGE_TYPE
                && type != TApplicationException.PROTOCOL_ERROR;
        }
        return error instanceof TException
            && !(error instanceof TTransportException)
            && !(error instanceof TProtocolException)
            && !(error instanceof MosaicException);
    }

    /**
     * Whether {@code error} is the server's {@code common.Overloaded}: it refused the call
     * before starting it, so another instance may take it.
     */
    static boolean isOverloaded(Throwable error) {
        return error instanceof dev.mosaic.common.Overloaded;
    }

    /** Whether {@code error} is the connection failing, as opposed to the call. */
    static boolean isTransportFailure(Throwable error) {
        return error instanceof TTransportException;
    }

    /**
     * The error a caller sees for {@code error}, thrown while calling {@code endpoint}: the
     * service's exceptions and {@link TApplicationException} unchanged, the connection's
     * failures as a {@link MosaicException}.
     *
     * @param sent whether the request had been flushed whole
     * @param timeout the call's timeout, for messages
     */
    static Throwable translate(Throwable error, Endpoint endpoint, boolean sent, Duration timeout) {
        if (error instanceof MosaicException || error instanceof TApplicationException) {
            return error;
        }
        if (isTimeout(error)) {
            return new CallTimeoutException("call to " + endpoint + " timed out after " + timeout, error);
        }
        if (error instanceof TTransportException && sent && isUndecodable((TTransportException) error)) {
            return new BadReplyException("the reply from " + endpoint + " could not be read: " + error.getMessage(), error);
        }
        if (error instanceof TTransportException) {
            String what = ((TTransportException) error).getType() == TTransportException.END_OF_FILE
                ? "closed the connection"
                : "connection failed";
            return new TransportFailedException(endpoint + " " + what
                + (sent ? " after the request was sent" : " before the request was sent")
                + ": " + error.getMessage(), endpoint.toString(), sent, error);
        }
        if (error instanceof TProtocolException && sent) {
            return new BadReplyException("the reply from " + endpoint + " could not be decoded: " + error.getMessage(), error);
        }
        // The service's exceptions, a request libthrift refused to encode, bugs.
        return error;
    }

    /**
     * What a call that failed on an open connection says about the instance, for its health:
     * {@code error} as the generated client raised it, {@code translated} as {@link #translate}
     * made it. {@code Overloaded} and the errors the server sends are answers; a timeout is
     * {@link Backend.Outcome#TIMED_OUT}; the connection breaking or an unreadable reply tells
     * only that this attempt failed.
     */
    static Backend.Outcome outcome(Throwable error, Throwable translated) {
        if (isOverloaded(error)) {
            return Backend.Outcome.OVERLOADED;
        }
        if (translated instanceof CallTimeoutException) {
            return Backend.Outcome.TIMED_OUT;
        }
        return translated instanceof MosaicException ? Backend.Outcome.FAILED : Backend.Outcome.ANSWERED;
    }

    /** The cause of a future's failure, without the wrappers futures add. */
    static Throwable unwrapFuture(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** Framing that makes no sense, or a message larger than the client accepts. */
    private static boolean isUndecodable(TTransportException error) {
        return error.getType() == TTransportException.CORRUPTED_DATA
            || error.getType() == TTransportException.MESSAGE_SIZE_LIMIT;
    }

    private static boolean isTimeout(Throwable error) {
        if (error instanceof TimeoutException || error instanceof SocketTimeoutException) {
            return true;
        }
        if (error instanceof TTransportException) {
            if (((TTransportException) error).getType() == TTransportException.TIMED_OUT) {
                return true;
            }
            return error.getCause() instanceof SocketTimeoutException;
        }
        return false;
    }
}
