package dev.mosaic.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The multiplexed connections of one async service, {@code asyncConnections} per instance,
 * opened on an instance's first call and closed when it leaves the list.
 */
final class AsyncChannels<A> implements AutoCloseable {
    private final AsyncClientFactory<? extends A> factory;
    private final int perInstance;
    private final Map<Backend, List<AsyncChannel<A>>> byBackend = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean closed;

    AsyncChannels(AsyncClientFactory<? extends A> factory, int perInstance) {
        this.factory = factory;
        this.perInstance = perInstance;
    }

    /** One of {@code backend}'s channels, taken in turn. */
    AsyncChannel<A> channel(Backend backend) throws ClientClosedException {
        if (closed) {
            throw new ClientClosedException();
        }
        List<AsyncChannel<A>> channels = byBackend.get(backend);
        if (channels == null) {
            List<AsyncChannel<A>> created = create(backend);
            channels = byBackend.putIfAbsent(backend, created);
            if (channels == null) {
                channels = created;
                // Runs at once if the instance already left, so a late call cannot leak connections.
                backend.onRetire(() -> {
                    byBackend.remove(backend, created);
                    created.forEach(AsyncChannel::close);
                });
            }
            // Otherwise another thread won; channels connect lazily, so the unused ones hold nothing.
        }
        return channels.get(Math.floorMod(next.getAndIncrement(), channels.size()));
    }

    private List<AsyncChannel<A>> create(Backend backend) {
        List<AsyncChannel<A>> channels = new ArrayList<>(perInstance);
        for (int i = 0; i < perInstance; i++) {
            channels.add(new AsyncChannel<>(backend.connector(), factory));
        }
        return List.copyOf(channels);
    }

    /** Closes every connection; calls in flight fail. */
    @Override
    public void close() {
        closed = true;
        for (List<AsyncChannel<A>> channels : byBackend.values()) {
            channels.forEach(AsyncChannel::close);
        }
        byBackend.clear();
    }
}
