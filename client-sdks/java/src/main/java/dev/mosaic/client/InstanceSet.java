package dev.mosaic.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * The instances a client balances over, and the choice of one for each attempt.
 *
 * <p>The list comes from a static address list once, or from the registry whenever it
 * changes ({@link #update}); instances that stay keep their connections and counters, those
 * that leave are retired. Picking reads an immutable snapshot, so it never waits for an
 * update, except before the first list has arrived.
 *
 * <p>With a preferred zone, the instances registered in it come first: an attempt goes to one
 * of them whenever one of them may take it, and to the others only otherwise.
 *
 * <p>With tags, only the instances that carry every one of them are in the set at all: the
 * others are left out of each list as if the source did not name them.
 */
final class InstanceSet implements AutoCloseable {
    /**
     * The instances at one moment: all of them (those with the tags asked for), those that
     * take calls (weight above 0), those of these in the preferred zone (empty without one),
     * the ring built for them, and how many listed instances lacked the tags.
     */
    private record Snapshot(List<Backend> all, List<Backend> accepting, List<Backend> local, HashRing ring,
                            int untagged) {}

    private final String source;
    private final ClientConfig config;
    private final Balancer balancer;
    private final String zone;
    private final SortedMap<String, String> tags;
    private final Picker picker;
    private final P2cPicker unkeyed = new P2cPicker();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition listed = lock.newCondition();
    private volatile Snapshot snapshot;
    private Throwable discoveryError;
    private boolean closed;

    /**
     * @param source what the list comes from, for messages: the addresses, or the service and
     *     its registries
     * @param zone the zone whose instances to prefer, or {@code null}
     */
    InstanceSet(String source, ClientConfig config, Balancer balancer, String zone) {
        this(source, config, balancer, zone, Map.of());
    }

    /**
     * @param source what the list comes from, for messages: the addresses, or the service and
     *     its registries
     * @param zone the zone whose instances to prefer, or {@code null}
     * @param tags the tags (key to value) an instance must all carry to be in the set; empty
     *     for every instance
     */
    InstanceSet(String source, ClientConfig config, Balancer balancer, String zone, Map<String, String> tags) {
        this.source = source;
        this.config = config;
        this.balancer = balancer;
        this.zone = zone;
        this.tags = Collections.unmodifiableSortedMap(new TreeMap<>(tags));
        this.picker = balancer == Balancer.ROUND_ROBIN ? new RoundRobinPicker() : new P2cPicker();
    }

    Balancer balancer() {
        return balancer;
    }

    String zone() {
        return zone;
    }

    /** The tags every instance in the set carries, sorted by key; empty for none. */
    SortedMap<String, String> tags() {
        return tags;
    }

    /**
     * Makes {@code instances} the list: those of them with every one of the {@link #tags()}
     * (the first of equal addresses counts); the others are left out.
     */
    void update(List<ServiceInstance> instances) {
        List<Backend> retired = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            Map<Endpoint, Backend> previous = new LinkedHashMap<>();
            if (snapshot != null) {
                snapshot.all().forEach(backend -> previous.put(backend.endpoint(), backend));
            }
            Map<Endpoint, Backend> next = new LinkedHashMap<>();
            int untagged = 0;
            for (ServiceInstance instance : instances) {
                if (!instance.hasTags(tags)) {
                    untagged++;
                    continue;
                }
                if (next.containsKey(instance.endpoint())) {
                    continue;
                }
                Backend backend = previous.remove(instance.endpoint());
                if (backend == null) {
                    backend = new Backend(instance, config);
                } else {
                    backend.update(instance);
                }
                next.put(instance.endpoint(), backend);
            }
            retired.addAll(previous.values());
            List<Backend> all = List.copyOf(next.values());
            List<Backend> accepting = all.stream().filter(backend -> backend.weight() > 0).toList();
            List<Backend> local = zone == null ? List.of()
                : accepting.stream().filter(backend -> zone.equals(backend.zone())).toList();
            snapshot = new Snapshot(all, accepting, local, balancer == Balancer.HASH ? new HashRing(accepting) : null,
                untagged);
            discoveryError = null;
            listed.signalAll();
        } finally {
            lock.unlock();
        }
        retired.forEach(Backend::retire);
    }

    /**
     * No list could be had; calls waiting for the first one fail with {@code error}. Once a
     * list has arrived the client keeps using it, and this changes nothing.
     */
    void discoveryFailed(Throwable error) {
        lock.lock();
        try {
            if (snapshot == null) {
                discoveryError = error;
                listed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The instance for the next attempt of a call, and whether that attempt is its trial.
     * Among instances of positive weight it prefers those neither ejected nor {@code tried} by
     * this call, and of these the ones in the preferred zone if there are any. An ejected
     * instance whose backoff is over takes exactly one call, its trial, claimed here, and no
     * other until that trial ends (see {@link HealthTracker}); until then it counts as ejected
     * here, and a call that finds its trial just taken by another goes elsewhere. When every
     * one not tried yet is ejected it still tries one (the service may be back): the one whose
     * backoff ends first; that call is its trial if no trial is in flight there, else an
     * ordinary call. When every one was tried it may pick one again. The caller must pass
     * {@link Backend.Pick#trial()} to {@link Backend#end}, or release the trial
     * ({@link Backend#releaseTrial()}) if it makes no attempt.
     *
     * @param key the call's hashing key, or {@code null}
     * @param tried the instances this call already tried
     * @throws NoInstanceException when no instance (with the tags) takes calls, or none is known yet
     * @throws ClientClosedException when the client is closed
     */
    Backend.Pick pick(String key, Set<Backend> tried, Deadline deadline) throws MosaicException {
        Snapshot current = awaitSnapshot(deadline);
        List<Backend> accepting = current.accepting();
        if (accepting.isEmpty()) {
            throw new NoInstanceException(noInstance(current), null);
        }
        long now = System.nanoTime();
        // Instances whose trial another call claimed after they passed for available.
        Set<Backend> trialTaken = null;
        while (true) {
            Set<Backend> skip = trialTaken;
            Predicate<Backend> available = backend -> !backend.isEjected(now) && !tried.contains(backend)
                && (skip == null || !skip.contains(backend));
            // The preferred zone's instances while one of them will do; all of them otherwise.
            List<Backend> candidates = current.local().isEmpty() ? List.of() : filter(current.local(), available);
            if (candidates.isEmpty()) {
                candidates = filter(accepting, available);
            }
            if (candidates.isEmpty()) {
                return fallback(current, key, tried);
            }
            Backend chosen = choose(current, candidates, key);
            if (!chosen.mayTakeTrial()) {
                return chosen.usual();
            }
            // Ejected, its backoff over: this call is its trial if no other call claimed it.
            if (chosen.claimTrial()) {
                return chosen.asTrial();
            }
            if (!chosen.mayTakeTrial()) {
                return chosen.usual(); // re-admitted meanwhile
            }
            if (trialTaken == null) {
                trialTaken = new HashSet<>(4);
            }
            trialTaken.add(chosen);
        }
    }

    /**
     * Every instance not tried yet is ejected: rather than fail, the one whose backoff ends
     * first (as its trial if none is in flight); when every one was tried, the balancer's
     * choice among all.
     */
    private Backend.Pick fallback(Snapshot current, String key, Set<Backend> tried) {
        Backend soonest = null;
        for (Backend backend : current.accepting()) {
            if (!tried.contains(backend)
                && (soonest == null || backend.ejectedUntil() - soonest.ejectedUntil() < 0)) {
                soonest = backend;
            }
        }
        if (soonest == null) {
            soonest = choose(current, current.accepting(), key);
        }
        return soonest.claimTrial() ? soonest.asTrial() : soonest.usual();
    }

    private Backend choose(Snapshot current, List<Backend> candidates, String key) {
        if (key != null && current.ring() != null) {
            Backend owner = current.ring().pick(key, candidates::contains);
            if (owner != null) {
                return owner;
            }
        }
        return (balancer == Balancer.HASH ? unkeyed : picker).pick(candidates);
    }

    /** Why no instance may take a call, in {@code current}. */
    private String noInstance(Snapshot current) {
        if (tags.isEmpty()) {
            return current.all().isEmpty()
                ? "no instance of " + source + " is listed"
                : "every instance of " + source + " has weight 0 " + current.all();
        }
        String tagged = describeTags();
        String others = current.untagged() == 0 ? "" : " (" + current.untagged()
            + (current.untagged() == 1 ? " instance is" : " instances are") + " listed without these tags)";
        return current.all().isEmpty()
            ? "no instance of " + source + " tagged " + tagged + " is listed" + others
            : "every instance of " + source + " tagged " + tagged + " has weight 0 " + current.all() + others;
    }

    /** Whether {@link #close()} was called. */
    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** The instances listed now, in the order of the list. */
    List<Backend> backends() {
        Snapshot current = snapshot;
        return current == null ? List.of() : current.all();
    }

    /** Retires every instance and fails calls waiting for a list. */
    @Override
    public void close() {
        List<Backend> all;
        lock.lock();
        try {
            closed = true;
            all = snapshot == null ? List.of() : snapshot.all();
            listed.signalAll();
        } finally {
            lock.unlock();
        }
        all.forEach(Backend::retire);
    }

    @Override
    public String toString() {
        return tags.isEmpty() ? source : source + " tagged " + describeTags();
    }

    /** The tags asked for, as {@code gpu=a100, mem=80g}. */
    private String describeTags() {
        StringBuilder described = new StringBuilder();
        tags.forEach((key, value) -> described.append(described.length() == 0 ? "" : ", ").append(key).append('=').append(value));
        return described.toString();
    }

    private Snapshot awaitSnapshot(Deadline deadline) throws MosaicException {
        Snapshot current = snapshot;
        if (current != null && !closed) {
            return current;
        }
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    throw new ClientClosedException();
                }
                if (snapshot != null) {
                    return snapshot;
                }
                if (discoveryError != null) {
                    throw new NoInstanceException("no list of the instances of " + source + " yet: "
                        + discoveryError.getMessage(), discoveryError);
                }
                long nanos = deadline.remainingNanos();
                if (nanos <= 0) {
                    throw new CallTimeoutException("no list of the instances of " + source + " within " + deadline.budget());
                }
                try {
                    listed.await(nanos, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new MosaicException("interrupted while waiting for the instances of " + source, e);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private static List<Backend> filter(List<Backend> backends, Predicate<Backend> keep) {
        List<Backend> kept = new ArrayList<>(backends.size());
        for (Backend backend : backends) {
            if (keep.test(backend)) {
                kept.add(backend);
            }
        }
        return kept;
    }
}
