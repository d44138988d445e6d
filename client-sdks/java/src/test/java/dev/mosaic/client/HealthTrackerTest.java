package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Passive health on its own, with the clock passed in: refused connections eject at once,
 * timeouts after {@link HealthTracker#TIMEOUTS_TO_EJECT} in a row, answers reset both.
 */
class HealthTrackerTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    /** An arbitrary start: {@link System#nanoTime()} may be anything, negative included. */
    private static final long T0 = -123_456_789_000L;

    /** The backoff of the ejection in force at {@code now}: how long it stays ejected from then. */
    private static long ejectedFor(HealthTracker health, long now) {
        assertTrue(health.isEjected(now), "not ejected");
        long low = 0;
        long high = HealthTracker.MAX_NANOS + SECOND;
        while (high - low > MS) {
            long mid = (low + high) / 2;
            if (health.isEjected(now + mid)) {
                low = mid;
            } else {
                high = mid;
            }
        }
        return high;
    }

    private static void timeOut(HealthTracker health, long now, int times) {
        for (int i = 0; i < times; i++) {
            health.timedOut(now);
        }
    }

    @Test
    void twoTimeoutsDoNotEjectTheThirdDoes() {
        assertEquals(3, HealthTracker.TIMEOUTS_TO_EJECT);
        HealthTracker health = new HealthTracker();
        health.timedOut(T0);
        assertFalse(health.isEjected(T0));
        health.timedOut(T0 + 100 * MS);
        assertFalse(health.isEjected(T0 + 100 * MS));
        health.timedOut(T0 + 200 * MS);
        assertTrue(health.isEjected(T0 + 200 * MS));
        assertEquals(SECOND, ejectedFor(health, T0 + 200 * MS), 2 * MS);
        assertFalse(health.isEjected(T0 + 200 * MS + SECOND + MS), "back after its 1 s");
    }

    @Test
    void anAnswerBetweenTimeoutsResetsTheCount() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 2);
        health.answered();
        timeOut(health, T0, 2);
        assertFalse(health.isEjected(T0), "2 + 2 timeouts with an answer between");
        health.timedOut(T0);
        assertTrue(health.isEjected(T0), "the third since the answer");
    }

    @Test
    void aTimeoutAfterTheBackoffEjectsAgainAtOnceForTwiceAsLong() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 3);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);

        // Back after 1 s, it has not answered since: its next timeout ejects it, for 2 s.
        long back = T0 + SECOND + MS;
        assertFalse(health.isEjected(back));
        health.timedOut(back);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);

        // And again, for 4 s.
        long again = back + 2 * SECOND + MS;
        health.timedOut(again);
        assertEquals(4 * SECOND, ejectedFor(health, again), 2 * MS);

        // An answer ends the streak: the next ejection takes 3 timeouts again and lasts 1 s.
        long answered = again + 4 * SECOND + MS;
        health.answered();
        timeOut(health, answered, 2);
        assertFalse(health.isEjected(answered));
        health.timedOut(answered);
        assertEquals(SECOND, ejectedFor(health, answered), 2 * MS);
    }

    @Test
    void failuresWhileEjectedDoNotLengthenTheBackoff() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 3);
        // Calls that were in flight time out, or their instance refuses, while it sits out.
        timeOut(health, T0 + 300 * MS, 5);
        health.failed(T0 + 600 * MS);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);
        // Nor do they count toward a later run: after the backoff one more timeout re-ejects
        // (the instance has not answered), for 2 s, not more.
        long back = T0 + SECOND + MS;
        health.timedOut(back);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);
    }

    @Test
    void aRefusedConnectionEjectsAtOnce() {
        HealthTracker health = new HealthTracker();
        health.failed(T0);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);
        // A refused instance that comes back and times out has not answered yet: out again.
        long back = T0 + SECOND + MS;
        health.timedOut(back);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);
    }

    @Test
    void timeoutsSoFarDoNotShortenAnEjectionForARefusal() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 2);
        health.failed(T0);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);
        // The run of timeouts ended with the ejection; after an answer, three are needed again.
        health.answered();
        long later = T0 + 2 * SECOND;
        timeOut(health, later, 2);
        assertFalse(health.isEjected(later));
    }

    @Test
    void theBackoffDoublesUpToThirtySeconds() {
        HealthTracker health = new HealthTracker();
        List<Long> seconds = new ArrayList<>();
        long now = T0;
        timeOut(health, now, 3);
        for (int i = 0; i < 7; i++) {
            long backoff = ejectedFor(health, now);
            seconds.add(Math.round(backoff / (double) SECOND));
            now += backoff + MS;
            health.timedOut(now);
        }
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L), seconds);
    }

    /** What {@link Backend#end} makes of each outcome, on a backend nothing listens for. */
    @Test
    void onlyAnswersResetTheTimeoutsOfABackend() {
        ClientConfig config = new ClientConfig(Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 0, Protocol.BINARY,
            Framing.FRAMED, 1, 1 << 20);
        Backend backend = new Backend(new ServiceInstance(new Endpoint("127.0.0.1", 1), 100, null), config);
        for (Backend.Outcome answer : List.of(Backend.Outcome.ANSWERED, Backend.Outcome.OVERLOADED)) {
            end(backend, Backend.Outcome.TIMED_OUT, Backend.Outcome.TIMED_OUT, answer,
                Backend.Outcome.TIMED_OUT, Backend.Outcome.TIMED_OUT);
            assertFalse(backend.isEjected(System.nanoTime()), answer + " reset the count");
            end(backend, answer);
        }
        // A broken connection or an attempt that never began tells nothing: the count goes on.
        end(backend, Backend.Outcome.TIMED_OUT, Backend.Outcome.FAILED, Backend.Outcome.NONE, Backend.Outcome.TIMED_OUT);
        assertFalse(backend.isEjected(System.nanoTime()));
        end(backend, Backend.Outcome.TIMED_OUT);
        assertTrue(backend.isEjected(System.nanoTime()), "the third timeout in a row");
        InstanceStats stats = backend.stats();
        // Timeouts, Overloaded and the broken connection are errors; answers and NONE are not.
        assertEquals(4 + (4 + 2) + 3 + 1, stats.errors(), stats.toString());
        assertEquals(0, stats.outstanding());
    }

    private static void end(Backend backend, Backend.Outcome... outcomes) {
        for (Backend.Outcome outcome : outcomes) {
            backend.begin();
            backend.end(outcome);
        }
    }
}
