package dev.mosaic.client;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One instance of a service as the client uses it: its connections, its health and its
 * counters. Lives while the instance is listed; {@link #retire()} closes it when it leaves.
 */
final class Backend {
    /** What an attempt on this instance came to, for its health and counters. */
    enum Outcome {
        /** The server answered (a result, or an error the service declares). */
        ANSWERED,
        /** The server answered {@code Overloaded}: alive, but it refused the call (counted as an error). */
        OVERLOADED,
        /** The attempt failed, but the instance may be fine (a broken connection, an unreadable reply). */
        FAILED,
        /** No connection to the instance could be opened: eject it for a while. */
        UNREACHABLE,
        /**
         * The call timed out on an open connection, sending or waiting for the reply: one of the
         * timeouts in a row that eject the instance.
         */
        TIMED_OUT,
        /** Nothing was learned (the caller's deadline ran out before the attempt began). */
        NONE
    }

    /** The instance chosen for an attempt, and whether the attempt is its trial (see {@link HealthTracker}). */
    record Pick(Backend backend, boolean trial) {}

    private final Pick usual = new Pick(this, false);
    private final Pick asTrial = new Pick(this, true);
    private final Endpoint endpoint;
    private final Connector connector;
    private final ConnectionPool pool;
    private final HealthTracker health = new HealthTracker();
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final List<Runnable> onRetire = new ArrayList<>();
    private volatile int weight;
    private volatile String zone;
    private volatile boolean retired;
    /** Smooth round robin's running weight; guarded by the {@link RoundRobinPicker}'s lock. */
    long roundRobinCurrent;

    Backend(ServiceInstance instance, ClientConfig config) {
        this.endpoint = instance.endpoint();
        this.weight = instance.weight();
        this.zone = instance.zone();
        this.connector = new Connector(new StaticEndpoints(List.of(endpoint)), config);
        this.pool = new ConnectionPool(connector, config.poolSize());
    }

    Endpoint endpoint() {
        return endpoint;
    }

    Connector connector() {
        return connector;
    }

    ConnectionPool pool() {
        return pool;
    }

    int weight() {
        return weight;
    }

    /** The zone the registry lists for it, or {@code null}. */
    String zone() {
        return zone;
    }

    int outstanding() {
        return outstanding.get();
    }

    boolean isEjected(long now) {
        return health.isEjected(now);
    }

    boolean isRetired() {
        return retired;
    }

    /** Takes the registry's newer word on weight and zone. */
    void update(ServiceInstance instance) {
        weight = instance.weight();
        zone = instance.zone();
    }

    /** When the current ejection's backoff ends ({@link System#nanoTime()}); meaningful while ejected. */
    long ejectedUntil() {
        return health.ejectedUntil();
    }

    /** Whether it is ejected (in its backoff or not): a call that goes to it now should be its trial. */
    boolean mayTakeTrial() {
        return health.ejectedFlag();
    }

    /**
     * Claims the trial of this ejected instance for the next attempt: true if no other call
     * holds it. The attempt then ends with {@code trial = true} ({@link #end}), or, if it never
     * starts, the trial is released ({@link #releaseTrial()}).
     */
    boolean claimTrial() {
        return health.claimTrial();
    }

    /** A claimed trial that made no attempt: another call may be the trial. */
    void releaseTrial() {
        health.released();
    }

    /** This instance for an ordinary attempt. */
    Pick usual() {
        return usual;
    }

    /** This instance for the attempt that claimed its trial. */
    Pick asTrial() {
        return asTrial;
    }

    /** An attempt starts: counted, and outstanding until {@link #end}. */
    void begin() {
        calls.incrementAndGet();
        outstanding.incrementAndGet();
    }

    /**
     * The attempt {@link #begin} counted is over; {@code trial} tells whether it was the
     * instance's trial ({@link Pick#trial()}).
     */
    void end(Outcome outcome, boolean trial) {
        outstanding.decrementAndGet();
        switch (outcome) {
            case ANSWERED -> health.answered(trial);
            case OVERLOADED -> {
                errors.incrementAndGet();
                health.answered(trial);
            }
            case FAILED -> {
                errors.incrementAndGet();
                // The instance may be fine: no verdict, so a trial lets another call try.
                if (trial) {
                    health.released();
                }
            }
            case UNREACHABLE -> {
                errors.incrementAndGet();
                health.failed(System.nanoTime(), trial);
            }
            case TIMED_OUT -> {
                errors.incrementAndGet();
                health.timedOut(System.nanoTime(), trial);
            }
            case NONE -> {
                // Nothing to learn; a trial lets another call try.
                if (trial) {
                    health.released();
                }
            }
        }
    }

    /** Runs {@code action} when this instance leaves the list (at once if it has left). */
    void onRetire(Runnable action) {
        synchronized (onRetire) {
            if (!retired) {
                onRetire.add(action);
                return;
            }
        }
        action.run();
    }

    /** The instance left the list: idle connections close now, busy ones when their call ends. */
    void retire() {
        List<Runnable> actions;
        synchronized (onRetire) {
            retired = true;
            actions = new ArrayList<>(onRetire);
            onRetire.clear();
        }
        pool.close();
        actions.forEach(Runnable::run);
    }

    InstanceStats stats() {
        return new InstanceStats(endpoint.toString(), weight, zone, calls.get(), errors.get(), outstanding.get(),
            health.isEjected(System.nanoTime()));
    }

    @Override
    public String toString() {
        return endpoint.toString();
    }
}
