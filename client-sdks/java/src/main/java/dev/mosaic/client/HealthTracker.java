package dev.mosaic.client;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Passive health of one instance. A connection that cannot be opened ejects it at once; calls
 * that time out after their connection was made eject it when {@value #TIMEOUTS_TO_EJECT} of
 * them come in a row. An ejected instance sits out a backoff (1 s, doubling with each ejection
 * in a row up to 30 s). When the backoff ends, exactly one call goes to it as a trial (claimed
 * with {@link #claimTrial} by {@link InstanceSet#pick}); while the trial is in flight the
 * instance takes no other calls and still counts as ejected. If the trial is answered the
 * instance is re-admitted (its streak of ejections and its count of timeouts start again); if
 * its connection cannot be opened or it times out, the instance is ejected again at once, for
 * the next, longer backoff; if it ends telling nothing either way (the caller's own error, a
 * deadline that ran out before the attempt began, a broken connection), the trial is released
 * and another call may be it. Any answer (a result, an error the service sends,
 * {@code Overloaded}) ends both the run of timeouts and the streak of ejections. Failures of
 * other calls during the backoff (calls that were in flight when it went down) do not lengthen
 * it, so one crash costs one step, not one per call.
 *
 * <p>When every instance is ejected, the client still tries one (see {@link InstanceSet#pick});
 * that call is the trial if it claims the trial (none is in flight), else an ordinary call. An
 * answer to an ordinary call re-admits the instance too: it is alive.
 *
 * <p>Why timeouts accrue: an image or model server answers some calls slowly (a large image)
 * and stays healthy; ejecting it for one late reply would push its share onto the others. A
 * server that accepts calls and answers none still goes, after a few.
 *
 * <p>Thread safety: a healthy instance costs volatile reads only ({@link #isEjected},
 * {@link #claimTrial}, {@link #answered} with no timeouts counted); changes of state take the
 * monitor; the trial is claimed with a compare-and-set, and only the call that claimed it
 * releases it.
 */
final class HealthTracker {
    static final long FIRST_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Calls that time out in a row, with no answer between them, before the instance is ejected. */
    static final int TIMEOUTS_TO_EJECT = 3;

    private volatile long ejectedUntil;
    /** Set by an ejection, cleared by an answer: ejected (in its backoff, or awaiting a trial's verdict). */
    private volatile boolean ejected;
    /** A trial call is in flight; set and cleared only by the call that claimed it. */
    private final AtomicBoolean trial = new AtomicBoolean();
    /** Calls timed out in a row since the last answer or ejection; written under the monitor. */
    private volatile int timeouts;
    /** Ejections in a row without an answer; guarded by the monitor. */
    private int streak;

    /**
     * Whether the instance takes no new calls at {@code now} ({@link System#nanoTime()}): it
     * sits out its backoff, or its trial call is in flight.
     */
    boolean isEjected(long now) {
        return ejected && (now - ejectedUntil < 0 || trial.get());
    }

    /** Whether it is ejected, in its backoff or after it, until an answer re-admits it. */
    boolean ejectedFlag() {
        return ejected;
    }

    /** When the current ejection's backoff ends ({@link System#nanoTime()}); meaningful while ejected. */
    long ejectedUntil() {
        return ejectedUntil;
    }

    /**
     * Claims the trial for a call about to go to the instance: true if the instance is
     * ejected and no trial is in flight, and this call is now its trial. The call that gets
     * true must report its end with {@code trial = true} ({@link #answered}, {@link #failed},
     * {@link #timedOut} or {@link #released}).
     */
    boolean claimTrial() {
        return ejected && trial.compareAndSet(false, true);
    }

    /** The trial call ended without a verdict: another call may be the trial. */
    void released() {
        trial.set(false);
    }

    /** A connection to the instance could not be opened (refused, or the connect timed out). */
    synchronized void failed(long now, boolean isTrial) {
        eject(now, isTrial);
    }

    /**
     * A call timed out after its connection was made, while sending or waiting for the reply.
     * A trial's timeout ejects the instance again at once; otherwise it goes at the
     * {@value #TIMEOUTS_TO_EJECT}th in a row, or at the first after a backoff it has not
     * answered since.
     */
    synchronized void timedOut(long now, boolean isTrial) {
        if (isTrial) {
            eject(now, true);
            return;
        }
        if (ejected && now - ejectedUntil < 0) {
            return;
        }
        if (ejected || timeouts + 1 >= TIMEOUTS_TO_EJECT) {
            eject(now, false);
        } else {
            timeouts++;
        }
    }

    /** The instance answered: re-admitted if it was ejected, its run of timeouts over. */
    void answered(boolean isTrial) {
        if (!isTrial && !ejected && timeouts == 0) {
            return;
        }
        synchronized (this) {
            streak = 0;
            timeouts = 0;
            ejected = false;
            if (isTrial) {
                trial.set(false);
            }
        }
    }

    /**
     * Ejects the instance for the streak's next backoff. A call that is not the trial does
     * nothing while the instance sits out a backoff; a failed trial always does.
     */
    private void eject(long now, boolean isTrial) {
        timeouts = 0;
        if (!isTrial && ejected && now - ejectedUntil < 0) {
            return;
        }
        long backoff = Math.min(MAX_NANOS, FIRST_NANOS << Math.min(5, streak));
        streak++;
        ejectedUntil = now + backoff;
        ejected = true;
        if (isTrial) {
            trial.set(false);
        }
    }
}
