package dev.mosaic.client;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs each call of a service's {@code AsyncIface} on one of a few multiplexed connections,
 * taken in turn, and returns a future that fails with the same errors a blocking call throws.
 *
 * <p>As for blocking calls, a call is retried on a new connection only when its request was
 * certainly not sent: connecting failed, or the connection was found broken before the
 * request was flushed whole.
 */
final class AsyncInvoker<A> implements InvocationHandler {
    private final Class<A> asyncIface;
    private final List<AsyncChannel<A>> channels;
    private final ClientConfig config;
    private final AtomicInteger next = new AtomicInteger();

    AsyncInvoker(Class<A> asyncIface, List<AsyncChannel<A>> channels, ClientConfig config) {
        this.asyncIface = asyncIface;
        this.channels = List.copyOf(channels);
        this.config = config;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return invokeObjectMethod(proxy, method, args);
        }
        Deadline deadline = Deadline.after(config.timeout());
        int retriesLeft = config.retries();
        while (true) {
            AsyncChannel<A> channel = channels.get(Math.floorMod(next.getAndIncrement(), channels.size()));
            AsyncChannel.Session<A> session;
            try {
                session = channel.session(deadline);
            } catch (ConnectFailedException e) {
                if (retriesLeft-- > 0 && Backoff.pause(config.retries() - retriesLeft, deadline)) {
                    continue;
                }
                return CompletableFuture.failedFuture(e);
            } catch (MosaicException e) {
                return CompletableFuture.failedFuture(e);
            }
            SendTracker.beginRequest();
            CompletableFuture<?> call;
            try {
                call = (CompletableFuture<?>) method.invoke(session.client(), args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            boolean sent = SendTracker.requestSent();
            if (!sent && call.isCompletedExceptionally()) {
                channel.discard(session);
                if (retriesLeft-- > 0 && !deadline.expired()) {
                    continue;
                }
            }
            return translated(call, channel, session, sent);
        }
    }

    /** A future completed as {@code call} is, with errors as {@link Failures#translate} says. */
    private CompletableFuture<Object> translated(CompletableFuture<?> call, AsyncChannel<A> channel, AsyncChannel.Session<A> session, boolean sent) {
        CompletableFuture<Object> result = new CompletableFuture<>();
        call.whenComplete((value, thrown) -> {
            if (thrown == null) {
                result.complete(value);
                return;
            }
            Throwable error = Failures.unwrapFuture(thrown);
            if (Failures.isTransportFailure(error)) {
                channel.discard(session);
            }
            result.completeExceptionally(Failures.translate(error, session.connection().endpoint(), sent, config.timeout()));
        });
        // Cancelling the caller's future forgets the call, as cancelling the client's own does.
        result.whenComplete((value, thrown) -> {
            if (result.isCancelled()) {
                call.cancel(false);
            }
        });
        return result;
    }

    private Object invokeObjectMethod(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return asyncIface.getName() + " client on " + channels.size() + " connections";
            default:
                throw new UnsupportedOperationException(method.toString());
        }
    }

    /** Closes every connection; calls in flight fail. */
    void close() {
        channels.forEach(AsyncChannel::close);
    }
}
