package dev.mosaic.client;

import java.util.concurrent.TimeUnit;

/** Pauses between attempts to connect, so a server that is restarting gets a moment. */
final class Backoff {
    private static final long FIRST_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private Backoff() {}

    /**
     * Sleeps before retry number {@code retry} (1, 2, ...): 20 ms, doubling up to 500 ms, but
     * never past {@code deadline}.
     *
     * @return whether there is time left for the retry
     */
    static boolean pause(int retry, Deadline deadline) {
        long nanos = Math.min(MAX_NANOS, FIRST_NANOS << Math.min(10, Math.max(0, retry - 1)));
        long left = deadline.remainingNanos();
        if (left <= nanos) {
            return false;
        }
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }
}
