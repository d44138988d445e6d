package dev.mosaic.client;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.SocketException;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TTransportException;

/**
 * Runs each call of a service's {@code Iface} on a pooled connection to an instance the
 * balancer picks: takes a connection, builds the generated blocking client over it, calls
 * the same method, and gives the connection back.
 *
 * <p>A failed attempt is tried again, on another instance when there is one, only when the
 * request certainly did not reach a handler (connecting failed, the connection broke before
 * the request was flushed whole, the server answered {@code Overloaded}), or, for calls
 * marked idempotent, when the connection failed after the request was sent. Every attempt
 * and pause fits in the call's one timeout.
 */
final class BlockingInvoker<I> implements InvocationHandler {
    private final Class<I> iface;
    private final Function<? super TProtocol, ? extends I> clientFactory;
    private final InstanceSet instances;
    private final ClientConfig config;
    private final CallOptions options;

    BlockingInvoker(Class<I> iface, Function<? super TProtocol, ? extends I> clientFactory, InstanceSet instances,
                    ClientConfig config, CallOptions options) {
        this.iface = iface;
        this.clientFactory = clientFactory;
        this.instances = instances;
        this.config = config;
        this.options = options;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return invokeObjectMethod(proxy, method, args);
        }
        Deadline deadline = Deadline.after(config.timeout());
        Set<Backend> tried = new HashSet<>(4);
        Throwable lastError = null;
        int attempt = 0;
        while (true) {
            Backend.Pick pick = instances.pick(options.key(), tried, deadline);
            Backend backend = pick.backend();
            // Going back to an instance already tried: give it a moment (20 ms, doubling).
            if (!tried.add(backend) && lastError != null && !Backoff.pause(attempt, deadline)) {
                if (pick.trial()) {
                    backend.releaseTrial();
                }
                throw lastError;
            }
            try {
                return attempt(backend, pick.trial(), method, args, deadline);
            } catch (RetryableFailure failure) {
                lastError = failure.error();
                attempt++;
                if (attempt > config.retries() || deadline.expired()) {
                    throw lastError;
                }
            }
        }
    }

    /** One attempt on {@code backend} ({@code trial}: its trial), counted in its stats and health. */
    private Object attempt(Backend backend, boolean trial, Method method, Object[] args, Deadline deadline)
        throws Throwable {
        backend.begin();
        Backend.Outcome outcome = Backend.Outcome.NONE;
        try {
            Connection connection;
            try {
                connection = backend.pool().acquire(deadline);
            } catch (ConnectFailedException e) {
                outcome = Backend.Outcome.UNREACHABLE;
                throw new RetryableFailure(e);
            } catch (ClientClosedException e) {
                if (backend.isRetired() && !instances.isClosed()) {
                    // The instance left the list since it was picked; others may take the call.
                    throw new RetryableFailure(e);
                }
                throw e;
            }
            boolean reusable = false;
            try {
                if (deadline.expired()) {
                    reusable = true;
                    throw new CallTimeoutException("no time left to call " + connection.endpoint() + " within " + deadline.budget());
                }
                connection.setReadTimeout(deadline.remainingMillis());
                SendTracker.beginRequest();
                I client = clientFactory.apply(connection.protocol());
                Object result = method.invoke(client, args);
                reusable = true;
                outcome = Backend.Outcome.ANSWERED;
                return result;
            } catch (InvocationTargetException e) {
                Throwable error = e.getCause();
                reusable = Failures.leavesConnectionUsable(error);
                boolean sent = SendTracker.requestSent();
                Throwable translated = Failures.translate(error, connection.endpoint(), sent, deadline.budget());
                outcome = Failures.outcome(error, translated);
                if (outcome == Backend.Outcome.OVERLOADED) {
                    throw new RetryableFailure(translated);
                }
                if (translated instanceof TransportFailedException && (!sent || options.idempotent())) {
                    throw new RetryableFailure(translated);
                }
                throw translated;
            } catch (SocketException | TTransportException e) {
                // Setting up the connection for the call failed: nothing was written.
                outcome = Backend.Outcome.FAILED;
                throw new RetryableFailure(new TransportFailedException("connection to " + connection.endpoint()
                    + " failed: " + e.getMessage(), connection.endpoint().toString(), false, e));
            } finally {
                backend.pool().release(connection, reusable);
            }
        } finally {
            backend.end(outcome, trial);
        }
    }

    private Object invokeObjectMethod(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return iface.getName() + " client of " + instances;
            default:
                throw new UnsupportedOperationException(method.toString());
        }
    }
}
