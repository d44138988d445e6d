package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mosaic.image.ImageService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Balancing across a static list of real {@code mosaic serve image} processes: weights, round
 * robin, power of two choices, hash stickiness, ejection and re-admission, retries on another
 * instance. What each instance got is read from {@link MosaicClient#instances()}.
 */
class BalancingTest {
    private static Path mosaic;
    private static ServerProcess a;
    private static ServerProcess b;
    private static ServerProcess c;
    /** Answers every call after 100 ms. */
    private static ServerProcess slow;

    @BeforeAll
    static void start() throws Exception {
        mosaic = ImageServiceTest.imageServerBinary();
        a = ServerProcess.imageServer(mosaic);
        b = ServerProcess.imageServer(mosaic);
        c = ServerProcess.imageServer(mosaic);
        slow = ServerProcess.imageServer(mosaic, "--delay-ms", "100");
    }

    @AfterAll
    static void stop() throws Exception {
        for (ServerProcess server : new ServerProcess[] {a, b, c, slow}) {
            if (server != null) {
                server.close();
            }
        }
    }

    static Map<String, InstanceStats> stats(MosaicClient client) {
        Map<String, InstanceStats> byAddress = new HashMap<>();
        client.instances().forEach(s -> byAddress.put(s.address(), s));
        return byAddress;
    }

    static long calls(MosaicClient client, ServerProcess server) {
        return stats(client).get(server.address()).calls();
    }

    @Test
    void roundRobinTakesTurnsByWeight() throws Exception {
        try (MosaicClient client = MosaicClient.builder(List.of(a.address(), b.address(), c.address()))
                .weight(a.address(), 300)
                .balancer(Balancer.ROUND_ROBIN)
                .build()) {
            ImageService.Iface image = client.image();
            for (int i = 0; i < 50; i++) {
                image.ping();
            }
            assertEquals(30, calls(client, a));
            assertEquals(10, calls(client, b));
            assertEquals(10, calls(client, c));
            assertEquals(Balancer.ROUND_ROBIN, client.balancer());
        }
    }

    @Test
    void anInstanceOfWeightZeroGetsNoCalls() throws Exception {
        try (MosaicClient client = MosaicClient.builder(List.of(a.address(), b.address(), c.address()))
                .weight(c.address(), 0)
                .build()) {
            ImageService.Iface image = client.image();
            for (int i = 0; i < 60; i++) {
                image.ping();
            }
            assertEquals(0, calls(client, c));
            assertTrue(calls(client, a) > 0 && calls(client, b) > 0, client.instances().toString());
            assertEquals(0, stats(client).get(c.address()).weight());
        }
    }

    @Test
    void p2cSplitsIdleTrafficByWeight() throws Exception {
        try (MosaicClient client = MosaicClient.builder(List.of(a.address(), b.address()))
                .weight(a.address(), 300)
                .build()) {
            ImageService.Iface image = client.image();
            int total = 400;
            for (int i = 0; i < total; i++) {
                image.ping();
            }
            double share = calls(client, a) / (double) total;
            // 3:1 expected; 400 draws put the share within 0.65..0.85 with overwhelming odds.
            assertTrue(share > 0.65 && share < 0.85, "a got " + share + " of the calls: " + client.instances());
        }
    }

    @Test
    void p2cSendsLessToASlowInstance() throws Exception {
        int threads = 8;
        int callsEach = 20;
        try (MosaicClient client = MosaicClient.builder(List.of(a.address(), slow.address())).build()) {
            ImageService.Iface image = client.image();
            ExecutorService executor = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    done.add(executor.submit(() -> {
                        for (int i = 0; i < callsEach; i++) {
                            image.ping();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                executor.shutdownNow();
            }
            long toSlow = calls(client, slow);
            long total = (long) threads * callsEach;
            assertEquals(total, toSlow + calls(client, a));
            // Round robin would give it half; outstanding calls pile up on it, so p2c gives it far less.
            assertTrue(toSlow < total / 4, "the slow instance got " + toSlow + " of " + total + ": " + client.instances());
            assertEquals(0, stats(client).get(slow.address()).outstanding());
        }
    }

    @Test
    void aKeyStaysOnOneInstance() throws Exception {
        try (MosaicClient client = MosaicClient.builder(List.of(a.address(), b.address(), c.address()))
                .balancer(Balancer.HASH)
                .build()) {
            Set<String> owners = new HashSet<>();
            for (int key = 0; key < 30; key++) {
                Map<String, InstanceStats> before = stats(client);
                ImageService.Iface image = client.withKey("model-" + key).image();
                for (int i = 0; i < 5; i++) {
                    image.ping();
                }
                List<String> moved = new ArrayList<>();
                for (InstanceStats after : client.instances()) {
                    long delta = after.calls() - before.get(after.address()).calls();
                    if (delta != 0) {
                        assertEquals(5, delta, "key " + key + " split its calls: " + client.instances());
                        moved.add(after.address());
                    }
                }
                assertEquals(1, moved.size(), "key " + key);
                owners.add(moved.get(0));
            }
            assertTrue(owners.size() >= 2, "30 keys all hashed to " + owners);
            // Without a key, HASH balances as p2c does.
            client.image().ping();
        }
    }

    @Test
    void keysNeedTheHashBalancer() throws Exception {
        try (MosaicClient client = MosaicClient.builder(a.address()).build()) {
            assertThrows(IllegalStateException.class, () -> client.withKey("resnet50"));
        }
    }

    @Test
    void aRefusingInstanceIsEjectedThenReadmitted() throws Exception {
        int port = Ports.closed();
        String down = "127.0.0.1:" + port;
        try (MosaicClient client = MosaicClient.builder(List.of(down, a.address()))
                .balancer(Balancer.ROUND_ROBIN)
                .build()) {
            ImageService.Iface image = client.image();
            for (int i = 0; i < 20; i++) {
                image.ping();   // none fails: the refused attempt is retried on a
            }
            InstanceStats refused = stats(client).get(down);
            assertEquals(1, refused.calls(), "tried once, then skipped while ejected: " + refused);
            assertEquals(1, refused.errors());
            assertTrue(refused.ejected());
            assertEquals(20, calls(client, a));

            try (ServerProcess revived = ServerProcess.start(List.of(mosaic.toString(), "serve", "image", "--port",
                    Integer.toString(port)))) {
                // After its 1 s backoff its trial call answers: it is re-admitted and takes its turns.
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (stats(client).get(down).ejected() && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                assertFalse(stats(client).get(down).ejected(), "still ejected after 5 s");
                for (int i = 0; i < 10; i++) {
                    image.ping();
                }
                InstanceStats back = stats(client).get(down);
                assertEquals(6, back.calls(), "round robin gives it every other call: " + back);
                assertEquals(1, back.errors());
                assertFalse(back.ejected());
                assertEquals(revived.address(), down);
            }
        }
    }

    @Test
    void whenEveryInstanceIsEjectedOneIsStillTried() throws Exception {
        String down1 = "127.0.0.1:" + Ports.closed();
        String down2 = "127.0.0.1:" + Ports.closed();
        try (MosaicClient client = MosaicClient.builder(List.of(down1, down2)).retries(1).build()) {
            ImageService.Iface image = client.image();
            assertThrows(ConnectFailedException.class, image::ping);
            assertTrue(client.instances().stream().allMatch(InstanceStats::ejected), client.instances().toString());
            long before = client.instances().stream().mapToLong(InstanceStats::calls).sum();
            assertThrows(ConnectFailedException.class, image::ping);
            long after = client.instances().stream().mapToLong(InstanceStats::calls).sum();
            assertEquals(before + 2, after, "both were tried although ejected");
        }
    }

    @Test
    void asyncCallsAreBalancedToo() throws Exception {
        try (MosaicClient client = MosaicClient.builder(List.of(a.address(), b.address(), c.address()))
                .balancer(Balancer.ROUND_ROBIN)
                .build()) {
            List<CompletableFuture<Void>> calls = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                calls.add(client.imageAsync().ping());
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            for (ServerProcess server : List.of(a, b, c)) {
                assertEquals(10, calls(client, server), client.instances().toString());
            }
        }
    }

    @Test
    void anAsyncCallRefusedByOneInstanceGoesToAnother() throws Exception {
        String down = "127.0.0.1:" + Ports.closed();
        try (MosaicClient client = MosaicClient.builder(List.of(down, a.address()))
                .balancer(Balancer.ROUND_ROBIN)
                .build()) {
            for (int i = 0; i < 6; i++) {
                client.imageAsync().ping().get(30, TimeUnit.SECONDS);
            }
            assertEquals(1, stats(client).get(down).errors());
            assertEquals(6, calls(client, a));
        }
    }

    /**
     * A call in flight when its server dies was sent, so it is not retried unless the caller
     * said it may run twice; then it goes to another instance.
     */
    @Test
    void onlyIdempotentCallsAreRetriedAfterTheRequestWasSent() throws Exception {
        for (boolean idempotent : new boolean[] {false, true}) {
            try (ServerProcess dying = ServerProcess.imageServer(mosaic, "--delay-ms", "3000");
                 MosaicClient client = MosaicClient.builder(List.of(dying.address(), a.address()))
                     .balancer(Balancer.ROUND_ROBIN)
                     .timeout(Duration.ofSeconds(20))
                     .build()) {
                ImageService.Iface image = idempotent ? client.idempotent().image() : client.image();
                CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                    try {
                        image.ping();   // round robin: the first call goes to the dying server
                        return null;
                    } catch (Exception e) {
                        return e;
                    }
                });
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (stats(client).get(dying.address()).outstanding() == 0 && System.nanoTime() < until) {
                    Thread.sleep(10);
                }
                Thread.sleep(200);  // the request is written and the server holds it
                dying.kill();
                Throwable error = outcome.get(30, TimeUnit.SECONDS);
                if (idempotent) {
                    assertEquals(null, error);
                    assertEquals(1, calls(client, a), "retried on the other instance");
                } else {
                    TransportFailedException failed = assertInstanceOf(TransportFailedException.class, error);
                    assertTrue(failed.requestSent(), failed.getMessage());
                    assertEquals(0, calls(client, a), "not retried");
                }
                assertEquals(1, stats(client).get(dying.address()).errors());
            }
        }
    }
}
