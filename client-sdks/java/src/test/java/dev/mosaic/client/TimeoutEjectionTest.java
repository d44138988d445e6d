package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mosaic.image.ImageService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Timeouts and passive health against real servers. A slow but alive instance (a real image
 * server behind a {@link TcpRelay} that holds its replies back on demand) keeps its share of
 * calls after a timed-out call or two; a hung one ({@link SilentServer}: accepts, never
 * answers) is ejected after {@value HealthTracker#TIMEOUTS_TO_EJECT} timeouts in a row, its
 * calls go to the healthy instance, and after its backoff exactly one call (its trial) goes to
 * it, the others still going to the healthy instance, and the trial's timeout ejects it again.
 */
class TimeoutEjectionTest {
    /** Far longer than a ping takes, even on a loaded machine; each timed-out call costs it. */
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final int TO_EJECT = HealthTracker.TIMEOUTS_TO_EJECT;

    private static ServerProcess healthy;
    /** Reached through a relay, which makes it slow when asked. */
    private static ServerProcess relayed;

    @BeforeAll
    static void start() throws Exception {
        Path mosaic = ImageServiceTest.imageServerBinary();
        healthy = ServerProcess.imageServer(mosaic);
        relayed = ServerProcess.imageServer(mosaic);
    }

    @AfterAll
    static void stop() throws Exception {
        for (ServerProcess server : new ServerProcess[] {healthy, relayed}) {
            if (server != null) {
                server.close();
            }
        }
    }

    private static InstanceStats stats(MosaicClient client, String address) {
        return BalancingTest.stats(client).get(address);
    }

    private static MosaicClient roundRobin(String first, String second) {
        return MosaicClient.builder(List.of(first, second)).balancer(Balancer.ROUND_ROBIN).timeout(TIMEOUT).build();
    }

    @Test
    void aSlowCallDoesNotEjectAnInstanceThatStillAnswers() throws Exception {
        try (TcpRelay relay = new TcpRelay(relayed.port());
             MosaicClient client = roundRobin(relay.address(), healthy.address())) {
            String slow = relay.address();
            ImageService.Iface image = client.image();
            for (int i = 0; i < 4; i++) {
                image.ping();
            }
            for (int round = 1; round <= 2; round++) {
                // Its replies are late: one timeout short of an ejection, while the other answers.
                relay.holdReplies();
                int timedOut = 0;
                try {
                    for (int call = 0; call < 4 * TO_EJECT && timedOut < TO_EJECT - 1; call++) {
                        try {
                            image.ping();
                        } catch (CallTimeoutException e) {
                            assertTrue(e.getMessage().contains(slow), e.getMessage());
                            timedOut++;
                        }
                    }
                } finally {
                    relay.releaseReplies();
                }
                assertEquals(TO_EJECT - 1, timedOut);
                assertFalse(stats(client, slow).ejected(), "round " + round + ": " + client.instances());

                // It answers in time again (which resets the count) and keeps taking its turns.
                long before = stats(client, slow).calls();
                for (int i = 0; i < 6; i++) {
                    image.ping();
                }
                InstanceStats after = stats(client, slow);
                assertEquals(before + 3, after.calls(), "round robin still gives it every other call: " + after);
                assertFalse(after.ejected(), after.toString());
            }
            // Four timeouts in all, never three in a row: never ejected, only counted as errors.
            assertEquals(2 * (TO_EJECT - 1), stats(client, slow).errors());
            assertEquals(0, stats(client, healthy.address()).errors());
        }
    }

    @Test
    void aServerThatNeverAnswersIsEjectedAfterThreeTimeoutsInARow() throws Exception {
        try (SilentServer hung = new SilentServer();
             MosaicClient client = roundRobin(hung.address(), healthy.address())) {
            ImageService.Iface image = client.image();
            ejectByTimeouts(client, image::ping, hung.address());
            assertEquals(TO_EJECT, stats(client, hung.address()).calls());
            callsGoToTheHealthyInstanceWhileEjected(client, image::ping, hung.address());
            ejectedAgainByOneTimeoutOnceBack(client, image::ping, hung.address());
        }
    }

    @Test
    void asyncCallsEjectAServerThatNeverAnswersAfterThreeTimeoutsToo() throws Exception {
        try (SilentServer hung = new SilentServer();
             MosaicClient client = roundRobin(hung.address(), healthy.address())) {
            Call ping = () -> await(client.imageAsync().ping());
            ejectByTimeouts(client, ping, hung.address());
            callsGoToTheHealthyInstanceWhileEjected(client, ping, hung.address());
            ejectedAgainByOneTimeoutOnceBack(client, ping, hung.address());
        }
    }

    @Test
    void afterItsBackoffAHungInstanceTakesOneTrialWhileTheOtherCallsGoToTheHealthyOne() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (SilentServer hung = new SilentServer();
             MosaicClient client = roundRobin(hung.address(), healthy.address())) {
            ImageService.Iface image = client.image();
            ejectByTimeouts(client, image::ping, hung.address());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (stats(client, hung.address()).ejected() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertFalse(stats(client, hung.address()).ejected(), "still ejected after 5 s");
            long hungCalls = stats(client, hung.address()).calls();
            long healthyCalls = stats(client, healthy.address()).calls();

            // Calls from several threads at once: one is the trial (and hangs until its
            // timeout); the others, in flight with it or after, all go to the healthy instance.
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<String>> calls = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                calls.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try {
                        image.ping();
                        return "answered";
                    } catch (CallTimeoutException e) {
                        assertTrue(e.getMessage().contains(hung.address()), e.getMessage());
                        return "timed out";
                    }
                }));
            }
            List<String> outcomes = new ArrayList<>();
            for (Future<String> call : calls) {
                outcomes.add(call.get(30, TimeUnit.SECONDS));
            }
            assertEquals(1, outcomes.stream().filter("timed out"::equals).count(), outcomes.toString());
            assertEquals(hungCalls + 1, stats(client, hung.address()).calls(), client.instances().toString());
            assertEquals(healthyCalls + threads - 1, stats(client, healthy.address()).calls(),
                client.instances().toString());
            // The trial timed out: out again (for 2 s), and its calls go to the healthy instance.
            assertTrue(stats(client, hung.address()).ejected(), client.instances().toString());
            image.ping();
            assertEquals(hungCalls + 1, stats(client, hung.address()).calls(), client.instances().toString());
        } finally {
            pool.shutdownNow();
        }
    }

    /** One call of the service, as a test makes it. */
    private interface Call {
        void run() throws Exception;
    }

    /** Waits for an async call; its failure is thrown as a blocking call would throw it. */
    private static void await(CompletableFuture<?> call) throws Exception {
        try {
            call.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** While {@code hung} sits out its backoff every call goes to the healthy instance, and succeeds. */
    /**
     * Calls (round robin over {@code hung} and a healthy instance) until {@code hung} has timed
     * out {@value #TO_EJECT} times: it is ejected by the last of them and not before.
     */
    private static void ejectByTimeouts(MosaicClient client, Call call, String hung) throws Exception {
        int timedOut = 0;
        for (int attempt = 0; attempt < 4 * TO_EJECT && timedOut < TO_EJECT; attempt++) {
            try {
                call.run();
            } catch (CallTimeoutException e) {
                assertTrue(e.getMessage().contains(hung), e.getMessage());
                timedOut++;
                assertEquals(timedOut == TO_EJECT, stats(client, hung).ejected(),
                    "ejected after " + timedOut + " timeouts? " + client.instances());
            }
        }
        assertEquals(TO_EJECT, timedOut);
    }

    private static void callsGoToTheHealthyInstanceWhileEjected(MosaicClient client, Call call, String hung) throws Exception {
        long hungCalls = stats(client, hung).calls();
        long healthyCalls = stats(client, healthy.address()).calls();
        int made = 0;
        while (made < 10 && stats(client, hung).ejected()) {
            call.run();
            made++;
        }
        assertTrue(made > 0, "no call while it was ejected");
        assertEquals(hungCalls, stats(client, hung).calls(), client.instances().toString());
        assertEquals(healthyCalls + made, stats(client, healthy.address()).calls(), client.instances().toString());
    }

    /** After its 1 s backoff {@code hung} takes one call, its trial; still hung, the trial's timeout ejects it. */
    private static void ejectedAgainByOneTimeoutOnceBack(MosaicClient client, Call call, String hung) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (stats(client, hung).ejected() && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertFalse(stats(client, hung).ejected(), "still ejected after 5 s");
        long hungCalls = stats(client, hung).calls();
        boolean timedOut = false;
        for (int attempt = 0; attempt < 4 && !timedOut; attempt++) {
            try {
                call.run();
            } catch (CallTimeoutException e) {
                timedOut = true;
            }
        }
        assertTrue(timedOut, "it got no call once back: " + client.instances());
        assertEquals(hungCalls + 1, stats(client, hung).calls());
        assertTrue(stats(client, hung).ejected(), "one more timeout, and it is out again: " + client.instances());
    }
}
