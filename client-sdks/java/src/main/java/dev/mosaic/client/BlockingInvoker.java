package dev.mosaic.client;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.SocketException;
import java.util.function.Function;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TTransportException;

/**
 * Runs each call of a service's {@code Iface} on a pooled connection: takes one, builds the
 * generated blocking client over it, calls the same method, and gives the connection back.
 *
 * <p>A call is retried on a new connection only when its request certainly did not reach the
 * server: connecting failed, or the connection broke before the request was flushed whole.
 */
final class BlockingInvoker<I> implements InvocationHandler {
    private final Class<I> iface;
    private final Function<? super TProtocol, ? extends I> clientFactory;
    private final ConnectionPool pool;
    private final ClientConfig config;

    BlockingInvoker(Class<I> iface, Function<? super TProtocol, ? extends I> clientFactory, ConnectionPool pool, ClientConfig config) {
        this.iface = iface;
        this.clientFactory = clientFactory;
        this.pool = pool;
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
            Connection connection;
            try {
                connection = pool.acquire(deadline);
            } catch (ConnectFailedException e) {
                if (retriesLeft-- > 0 && Backoff.pause(config.retries() - retriesLeft, deadline)) {
                    continue;
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
                return result;
            } catch (InvocationTargetException e) {
                Throwable error = e.getCause();
                reusable = Failures.leavesConnectionUsable(error);
                boolean sent = SendTracker.requestSent();
                if (!sent && Failures.isTransportFailure(error) && retriesLeft-- > 0 && !deadline.expired()) {
                    continue;
                }
                throw Failures.translate(error, connection.endpoint(), sent, deadline.budget());
            } catch (SocketException | TTransportException e) {
                // Setting up the connection for the call failed: nothing was written.
                if (retriesLeft-- > 0 && !deadline.expired()) {
                    continue;
                }
                throw new TransportFailedException("connection to " + connection.endpoint() + " failed: " + e.getMessage(),
                    connection.endpoint().toString(), false, e);
            } finally {
                pool.release(connection, reusable);
            }
        }
    }

    private Object invokeObjectMethod(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return iface.getName() + " client of " + pool;
            default:
                throw new UnsupportedOperationException(method.toString());
        }
    }
}
