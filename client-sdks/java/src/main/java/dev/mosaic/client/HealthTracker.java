package dev.mosaic.client;

import java.util.concurrent.TimeUnit;

/**
 * Passive health of one instance. A connection that cannot be opened ejects it at once; calls
 * that time out after their connection was made eject it when {@value #TIMEOUTS_TO_EJECT} of
 * them come in a row. An ejected instance sits out a backoff (1 s, doubling with each ejection
 * in a row up to 30 s), after which calls go to it again; until it answers one, a single
 * failure to connect or timeout ejects it again, for the next, longer backoff. Any answer (a
 * result, an error the service sends, {@code Overloaded}) ends both the run of timeouts and
 * the streak of ejections. Failures seen while already ejected (calls that were in flight when
 * it went down) do not lengthen the backoff, so one crash costs one step, not one per call.
 *
 * <p>Why timeouts accrue: an image or model server answers some calls slowly (a large image)
 * and stays healthy; ejecting it for one late reply would push its share onto the others. A
 * server that accepts calls and answers none still goes, after a few.
 */
final class HealthTracker {
    static final long FIRST_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Calls that time out in a row, with no answer between them, before the instance is ejected. */
    static final int TIMEOUTS_TO_EJECT = 3;

    private volatile long ejectedUntil;
    /** Set by an ejection, cleared by an answer: the instance is on a streak of ejections. */
    private volatile boolean ejected;
    /** Ejections in a row without an answer. */
    private int streak;
    /** Calls timed out in a row since the last answer or ejection. */
    private int timeouts;

    /** Whether the instance sits out its backoff at {@code now} ({@link System#nanoTime()}). */
    boolean isEjected(long now) {
        return ejected && now - ejectedUntil < 0;
    }

    /** A connection to the instance could not be opened (refused, or the connect timed out). */
    synchronized void failed(long now) {
        eject(now);
    }

    /**
     * A call timed out after its connection was made, while sending or waiting for the reply.
     * Ejects the instance at the {@value #TIMEOUTS_TO_EJECT}th in a row, or at once when it was
     * ejected before and has not answered since.
     */
    synchronized void timedOut(long now) {
        if (isEjected(now)) {
            return;
        }
        if (ejected || ++timeouts >= TIMEOUTS_TO_EJECT) {
            eject(now);
        }
    }

    /** The instance answered. */
    synchronized void answered() {
        streak = 0;
        timeouts = 0;
        ejected = false;
    }

    /** Ejects the instance for the streak's next backoff, unless it sits one out already. */
    private void eject(long now) {
        timeouts = 0;
        if (isEjected(now)) {
            return;
        }
        long backoff = Math.min(MAX_NANOS, FIRST_NANOS << Math.min(5, streak));
        streak++;
        ejectedUntil = now + backoff;
        ejected = true;
    }
}
