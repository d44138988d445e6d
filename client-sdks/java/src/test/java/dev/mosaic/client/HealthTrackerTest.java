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
 * timeouts after {@link HealthTracker#TIMEOUTS_TO_EJECT} in a row, answers reset both; after a
 * backoff one trial call at a time decides.
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
            health.timedOut(now, false);
        }
    }

    /** After the backoff, claims the trial (it must be free) and times it out at {@code now}. */
    private static void trialTimesOut(HealthTracker health, long now) {
        assertFalse(health.isEjected(now), "the backoff is over");
        assertTrue(health.claimTrial(), "the trial is free");
        assertTrue(health.isEjected(now), "out while its trial runs");
        health.timedOut(now, true);
    }

    @Test
    void twoTimeoutsDoNotEjectTheThirdDoes() {
        assertEquals(3, HealthTracker.TIMEOUTS_TO_EJECT);
        HealthTracker health = new HealthTracker();
        health.timedOut(T0, false);
        assertFalse(health.isEjected(T0));
        health.timedOut(T0 + 100 * MS, false);
        assertFalse(health.isEjected(T0 + 100 * MS));
        health.timedOut(T0 + 200 * MS, false);
        assertTrue(health.isEjected(T0 + 200 * MS));
        assertEquals(SECOND, ejectedFor(health, T0 + 200 * MS), 2 * MS);
        assertFalse(health.isEjected(T0 + 200 * MS + SECOND + MS), "back after its 1 s");
    }

    @Test
    void anAnswerBetweenTimeoutsResetsTheCount() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 2);
        health.answered(false);
        timeOut(health, T0, 2);
        assertFalse(health.isEjected(T0), "2 + 2 timeouts with an answer between");
        health.timedOut(T0, false);
        assertTrue(health.isEjected(T0), "the third since the answer");
    }

    @Test
    void aTrialThatTimesOutEjectsAgainAtOnceForTwiceAsLong() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 3);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);

        // Back after 1 s, its trial times out: out again at once, for 2 s.
        long back = T0 + SECOND + MS;
        trialTimesOut(health, back);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);

        // And again, for 4 s.
        long again = back + 2 * SECOND + MS;
        trialTimesOut(health, again);
        assertEquals(4 * SECOND, ejectedFor(health, again), 2 * MS);

        // An answered trial ends the streak: the next ejection takes 3 timeouts again and lasts 1 s.
        long answered = again + 4 * SECOND + MS;
        assertTrue(health.claimTrial());
        health.answered(true);
        assertFalse(health.isEjected(answered));
        timeOut(health, answered, 2);
        assertFalse(health.isEjected(answered));
        health.timedOut(answered, false);
        assertEquals(SECOND, ejectedFor(health, answered), 2 * MS);
    }

    @Test
    void failuresWhileEjectedDoNotLengthenTheBackoff() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 3);
        // Calls that were in flight time out, or their instance refuses, while it sits out.
        timeOut(health, T0 + 300 * MS, 5);
        health.failed(T0 + 600 * MS, false);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);
        // Nor do they count toward a later run: after the backoff a trial that times out
        // re-ejects it for 2 s, not more.
        long back = T0 + SECOND + MS;
        trialTimesOut(health, back);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);
    }

    @Test
    void aRefusedConnectionEjectsAtOnce() {
        HealthTracker health = new HealthTracker();
        health.failed(T0, false);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);
        // A refused instance whose trial times out has not answered yet: out again.
        long back = T0 + SECOND + MS;
        trialTimesOut(health, back);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);
    }

    @Test
    void timeoutsSoFarDoNotShortenAnEjectionForARefusal() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 2);
        health.failed(T0, false);
        assertEquals(SECOND, ejectedFor(health, T0), 2 * MS);
        // The run of timeouts ended with the ejection; after an answer, three are needed again.
        health.answered(false);
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
            trialTimesOut(health, now);
        }
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L), seconds);
    }

    @Test
    void afterTheBackoffOneTrialAtATime() {
        HealthTracker health = new HealthTracker();
        assertFalse(health.claimTrial(), "a healthy instance has no trial");
        health.failed(T0, false);
        assertTrue(health.isEjected(T0 + 500 * MS));
        long back = T0 + SECOND + MS;
        assertFalse(health.isEjected(back), "its backoff is over: it may take a trial");
        assertTrue(health.claimTrial());
        // While the trial is in flight it takes no other call, however long that takes.
        assertTrue(health.isEjected(back));
        assertTrue(health.isEjected(back + HealthTracker.MAX_NANOS));
        assertFalse(health.claimTrial(), "one trial at a time");
        // Calls that were in flight before the ejection, failing now, change nothing.
        health.failed(T0 + 500 * MS, false);
        assertFalse(health.claimTrial());
        assertTrue(health.isEjected(back));
    }

    @Test
    void anAnsweredTrialReadmitsTheInstance() {
        HealthTracker health = new HealthTracker();
        timeOut(health, T0, 3);
        long back = T0 + SECOND + MS;
        trialTimesOut(health, back);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);
        long again = back + 2 * SECOND + MS;
        assertTrue(health.claimTrial());
        health.answered(true);
        assertFalse(health.isEjected(again), "back in");
        assertFalse(health.claimTrial(), "no trial once back");
        // Its streak and count of timeouts start again: 3 timeouts, then 1 s.
        timeOut(health, again, 2);
        assertFalse(health.isEjected(again));
        health.timedOut(again, false);
        assertEquals(SECOND, ejectedFor(health, again), 2 * MS);
    }

    @Test
    void aFailedTrialEjectsAgainAtOnceForTwiceAsLong() {
        HealthTracker health = new HealthTracker();
        health.failed(T0, false);
        long back = T0 + SECOND + MS;
        assertTrue(health.claimTrial());
        health.failed(back, true);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);
        // The failed trial freed its place: a call during the new backoff (as when every
        // instance is ejected) may claim it, and failing too, ejects it for 4 s from then.
        assertTrue(health.claimTrial());
        long during = back + SECOND;
        health.failed(during, true);
        assertEquals(4 * SECOND, ejectedFor(health, during), 2 * MS);
        // The same for a trial that times out: 8 s.
        long later = during + 4 * SECOND + MS;
        trialTimesOut(health, later);
        assertEquals(8 * SECOND, ejectedFor(health, later), 2 * MS);
    }

    @Test
    void aTrialWithoutAVerdictFreesItsPlace() {
        HealthTracker health = new HealthTracker();
        health.failed(T0, false);
        long back = T0 + SECOND + MS;
        assertTrue(health.claimTrial());
        health.released();
        assertFalse(health.isEjected(back), "another call may be the trial");
        assertTrue(health.claimTrial());
        assertTrue(health.isEjected(back));
        // It is still the first ejection's streak: a failed trial now costs 2 s.
        health.failed(back, true);
        assertEquals(2 * SECOND, ejectedFor(health, back), 2 * MS);
    }

    @Test
    void concurrentCallsClaimOneTrial() throws Exception {
        HealthTracker health = new HealthTracker();
        health.failed(System.nanoTime() - 2 * SECOND, false);
        int threads = 8;
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
        java.util.concurrent.atomic.AtomicInteger trials = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                if (health.claimTrial()) {
                    trials.incrementAndGet();
                }
            });
            thread.start();
            all.add(thread);
        }
        for (Thread thread : all) {
            thread.join(5_000);
        }
        assertEquals(1, trials.get());
    }

    /** Through {@link Backend}: the trial's claim, and what each outcome of it makes. */
    @Test
    void aBackendsTrialEndsByItsOutcome() {
        Backend backend = backend();
        assertFalse(backend.claimTrial(), "healthy: no trial");
        end(backend, Backend.Outcome.UNREACHABLE);
        assertTrue(backend.isEjected(System.nanoTime()));
        // A call may claim the trial during the backoff too (when every instance is ejected);
        // an attempt without verdict (NONE, a broken connection) or none at all frees it.
        for (Backend.Outcome noVerdict : List.of(Backend.Outcome.NONE, Backend.Outcome.FAILED)) {
            assertTrue(backend.claimTrial(), "the trial is free");
            assertFalse(backend.claimTrial(), "one at a time");
            backend.begin();
            backend.end(noVerdict, true);
        }
        assertTrue(backend.claimTrial());
        backend.releaseTrial();
        // An answered trial readmits it.
        assertTrue(backend.claimTrial());
        backend.begin();
        backend.end(Backend.Outcome.OVERLOADED, true);
        assertFalse(backend.isEjected(System.nanoTime()));
        assertFalse(backend.claimTrial());
        assertEquals(0, backend.stats().outstanding());
    }

    private static Backend backend() {
        ClientConfig config = new ClientConfig(Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 0, Protocol.BINARY,
            Framing.FRAMED, 1, 1 << 20);
        return new Backend(new ServiceInstance(new Endpoint("127.0.0.1", 1), 100, null), config);
    }

    /** What {@link Backend#end} makes of each outcome, on a backend nothing listens for. */
    @Test
    void onlyAnswersResetTheTimeoutsOfABackend() {
        Backend backend = backend();
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
            backend.end(outcome, false);
        }
    }
}
