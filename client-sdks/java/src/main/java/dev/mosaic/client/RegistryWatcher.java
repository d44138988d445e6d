package dev.mosaic.client;

import dev.mosaic.registry.Instance;
import dev.mosaic.registry.Instances;
import dev.mosaic.registry.Registry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keeps an {@link InstanceSet} in step with the registry from one daemon thread: a
 * {@code lookup}, then {@code watch} long polls with the version held, each answered as soon
 * as the service's instances change.
 *
 * <p>When a registry cannot be reached or fails, the next one is tried after a pause (100 ms,
 * doubling to 5 s), and the set keeps the last list it had: a registry outage stops changes
 * from arriving, not calls. {@link #close()} closes the connection under a pending poll, so
 * the thread ends at once rather than after the poll.
 */
final class RegistryWatcher implements AutoCloseable {
    private static final long FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How long past a poll's own timeout the registry may take to answer it. */
    private static final int POLL_SLACK_MILLIS = 5_000;

    private final String service;
    private final List<Endpoint> registries;
    private final InstanceSet instances;
    private final ClientConfig config;
    private final Duration pollTimeout;
    private final Thread thread;
    private volatile boolean closed;
    private Connection current;

    RegistryWatcher(String service, List<Endpoint> registries, InstanceSet instances, ClientConfig config, Duration pollTimeout) {
        this.service = service;
        this.registries = List.copyOf(registries);
        this.instances = instances;
        this.config = config;
        this.pollTimeout = pollTimeout;
        this.thread = new Thread(this::run, "mosaic-registry-watch-" + service);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Stops watching and waits (briefly) for the thread to end. */
    @Override
    public void close() {
        closed = true;
        Connection connection;
        synchronized (this) {
            connection = current;
        }
        if (connection != null) {
            connection.close();
        }
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean isRunning() {
        return thread.isAlive();
    }

    private void run() {
        int failures = 0;
        int next = 0;
        while (!closed) {
            Endpoint registry = registries.get(next % registries.size());
            try {
                watch(registry);
                failures = 0;
            } catch (Exception e) {
                if (closed) {
                    return;
                }
                failures++;
                next++;
                if (failures >= registries.size()) {
                    // Every registry had its chance: calls waiting for a first list give up.
                    instances.discoveryFailed(new MosaicException("registry " + registry + ": " + describe(e), e));
                }
                if (!pause(failures)) {
                    return;
                }
            }
        }
    }

    /** Looks up, then long-polls {@code registry} until it fails or the watcher closes. */
    private void watch(Endpoint registry) throws Exception {
        Connection connection = Connection.open(registry, config, (int) config.connectTimeout().toMillis());
        synchronized (this) {
            if (closed) {
                connection.close();
                return;
            }
            current = connection;
        }
        try {
            Registry.Client client = new Registry.Client(connection.protocol());
            connection.setReadTimeout((int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis()));
            Instances listed = client.lookup(service);
            instances.update(toServiceInstances(listed));
            long version = listed.getVersion();
            int pollMillis = (int) pollTimeout.toMillis();
            connection.setReadTimeout(pollMillis + POLL_SLACK_MILLIS);
            while (!closed) {
                Instances changed = client.watch(service, version, pollMillis);
                if (changed.getVersion() != version) {
                    instances.update(toServiceInstances(changed));
                    version = changed.getVersion();
                }
            }
        } finally {
            synchronized (this) {
                current = null;
            }
            connection.close();
        }
    }

    private static List<ServiceInstance> toServiceInstances(Instances listed) {
        List<ServiceInstance> result = new ArrayList<>();
        for (Instance instance : listed.getInstances()) {
            result.add(new ServiceInstance(new Endpoint(instance.getHost(), instance.getPort()),
                Math.max(0, instance.getWeight()), instance.getZone(), instance.getTags()));
        }
        return result;
    }

    /** Sleeps before the next attempt; false when the watcher closed meanwhile. */
    private boolean pause(int failures) {
        long nanos = Math.min(MAX_PAUSE_NANOS, FIRST_PAUSE_NANOS << Math.min(10, failures - 1));
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
            return !closed;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static String describe(Throwable error) {
        String message = error.getMessage();
        return message == null || message.isEmpty() ? error.getClass().getSimpleName() : message;
    }

    @Override
    public String toString() {
        return service + " via registry " + registries;
    }
}
