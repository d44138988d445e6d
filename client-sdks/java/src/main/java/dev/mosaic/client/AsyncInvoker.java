package dev.mosaic.client;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * Runs each call of a service's {@code AsyncIface} on a multiplexed connection to an
 * instance the balancer picks, and returns a future that fails with the same errors a
 * blocking call throws.
 *
 * <p>Retries follow the blocking rule: another attempt, on another instance when there is
 * one, only when the request certainly did not reach a handler, or the call is idempotent.
 * A failure seen while sending is retried on the calling thread; one that arrives with the
 * reply is retried from {@code CompletableFuture}'s default executor, never from a
 * connection's reader thread.
 */
final class AsyncInvoker<A> implements InvocationHandler {
    private final Class<A> asyncIface;
    private final AsyncChannels<A> channels;
    private final InstanceSet instances;
    private final ClientConfig config;
    private final CallOptions options;

    AsyncInvoker(Class<A> asyncIface, AsyncChannels<A> channels, InstanceSet instances, ClientConfig config,
                 CallOptions options) {
        this.asyncIface = asyncIface;
        this.channels = channels;
        this.instances = instances;
        this.config = config;
        this.options = options;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return invokeObjectMethod(proxy, method, args);
        }
        Call call = new Call(method, args);
        call.dispatch();
        call.rethrowCallerError();
        return call.result;
    }

    /** One call of the service: its attempts, and the future the caller holds. */
    private final class Call {
        private final Method method;
        private final Object[] args;
        private final Deadline deadline = Deadline.after(config.timeout());
        private final Set<Backend> tried = new HashSet<>(4);
        private final CompletableFuture<Object> result = new CompletableFuture<>();
        private volatile CompletableFuture<?> inFlight;
        /** An error of the caller's own making (bad arguments), thrown rather than returned. */
        private Throwable callerError;
        private Throwable lastError;
        private int attempt;

        Call(Method method, Object[] args) {
            this.method = method;
            this.args = args;
            // Cancelling the caller's future forgets the call, as cancelling the client's own does.
            result.whenComplete((value, thrown) -> {
                CompletableFuture<?> current = inFlight;
                if (result.isCancelled() && current != null) {
                    current.cancel(false);
                }
            });
        }

        /** Starts attempts until one is on its way or the call has failed. */
        synchronized void dispatch() {
            while (!result.isDone()) {
                Backend.Pick pick;
                try {
                    pick = instances.pick(options.key(), tried, deadline);
                } catch (MosaicException e) {
                    result.completeExceptionally(e);
                    return;
                }
                Backend backend = pick.backend();
                if (!tried.add(backend) && lastError != null && !Backoff.pause(attempt, deadline)) {
                    if (pick.trial()) {
                        backend.releaseTrial();
                    }
                    result.completeExceptionally(lastError);
                    return;
                }
                try {
                    send(backend, pick.trial());
                    return;
                } catch (RetryableFailure failure) {
                    if (!mayRetry(failure.error())) {
                        return;
                    }
                } catch (MosaicException e) {
                    result.completeExceptionally(e);
                    return;
                } catch (Throwable e) {
                    callerError = e;
                    return;
                }
            }
        }

        void rethrowCallerError() throws Throwable {
            if (callerError != null) {
                throw callerError;
            }
        }

        /** Counts a failed attempt; false (with the call failed) when no attempt is left. */
        private boolean mayRetry(Throwable error) {
            lastError = error;
            attempt++;
            if (attempt > config.retries() || deadline.expired()) {
                result.completeExceptionally(error);
                return false;
            }
            return true;
        }

        private void send(Backend backend, boolean trial) throws Throwable {
            backend.begin();
            AsyncChannel<A> channel;
            AsyncChannel.Session<A> session;
            try {
                channel = channels.channel(backend);
                session = channel.session(deadline);
            } catch (ConnectFailedException e) {
                backend.end(Backend.Outcome.UNREACHABLE, trial);
                throw new RetryableFailure(e);
            } catch (ClientClosedException e) {
                backend.end(Backend.Outcome.NONE, trial);
                if (backend.isRetired() && !instances.isClosed()) {
                    throw new RetryableFailure(e);
                }
                throw e;
            } catch (TransportFailedException e) {
                // Setting up the connection failed: nothing was written.
                backend.end(Backend.Outcome.FAILED, trial);
                throw new RetryableFailure(e);
            } catch (MosaicException | RuntimeException | Error e) {
                // Every path ends the attempt: a trial left claimed would keep its instance out.
                backend.end(Backend.Outcome.NONE, trial);
                throw e;
            }
            SendTracker.beginRequest();
            CompletableFuture<?> call;
            try {
                call = (CompletableFuture<?>) method.invoke(session.client(), args);
            } catch (InvocationTargetException e) {
                backend.end(Backend.Outcome.NONE, trial);
                throw e.getCause();
            } catch (ReflectiveOperationException | RuntimeException | Error e) {
                backend.end(Backend.Outcome.NONE, trial);
                throw e;
            }
            boolean sent = SendTracker.requestSent();
            if (!sent && call.isCompletedExceptionally()) {
                backend.end(Backend.Outcome.FAILED, trial);
                channel.discard(session);
                Throwable error = Failures.unwrapFuture(call.handle((value, thrown) -> thrown).join());
                throw new RetryableFailure(Failures.translate(error, session.connection().endpoint(), false, config.timeout()));
            }
            inFlight = call;
            call.whenComplete((value, thrown) -> completed(backend, trial, channel, session, sent, value, thrown));
        }

        private void completed(Backend backend, boolean trial, AsyncChannel<A> channel, AsyncChannel.Session<A> session, boolean sent,
                               Object value, Throwable thrown) {
            if (thrown == null) {
                backend.end(Backend.Outcome.ANSWERED, trial);
                result.complete(value);
                return;
            }
            Throwable error = Failures.unwrapFuture(thrown);
            if (error instanceof CancellationException) {
                backend.end(Backend.Outcome.NONE, trial);
                result.completeExceptionally(error);
                return;
            }
            if (Failures.isTransportFailure(error)) {
                channel.discard(session);
            }
            Throwable translated = Failures.translate(error, session.connection().endpoint(), sent, config.timeout());
            Backend.Outcome outcome = Failures.outcome(error, translated);
            backend.end(outcome, trial);
            boolean retryable = outcome == Backend.Outcome.OVERLOADED
                || translated instanceof TransportFailedException && (!sent || options.idempotent());
            synchronized (this) {
                if (retryable && !result.isDone() && mayRetry(translated)) {
                    CompletableFuture.runAsync(this::dispatch);
                    return;
                }
            }
            result.completeExceptionally(translated);
        }
    }

    private Object invokeObjectMethod(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return asyncIface.getName() + " async client of " + instances;
            default:
                throw new UnsupportedOperationException(method.toString());
        }
    }
}
