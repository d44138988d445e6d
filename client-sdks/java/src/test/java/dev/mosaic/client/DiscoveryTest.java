package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mosaic.image.ImageService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MosaicClient#discover} against a real {@code mosaic registry} and image servers
 * that register with it: the list follows servers as they come and go, weights come from
 * the registry, registries are tried in turn, and {@code close()} ends the watch at once.
 */
class DiscoveryTest {
    private static final int TTL_MILLIS = 3000;

    private static Path mosaic;
    private static ServerProcess registry;

    @BeforeAll
    static void start() throws Exception {
        mosaic = ImageServiceTest.imageServerBinary();
        registry = ServerProcess.registry(mosaic);
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    /** Waits (at most {@code seconds}) for {@code condition}; whether it came true. */
    static boolean await(BooleanSupplier condition, int seconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    static boolean lists(MosaicClient client, ServerProcess server) {
        return client.instances().stream().anyMatch(s -> s.address().equals(server.address()));
    }

    @Test
    void theListFollowsServersAsTheyComeAndGo() throws Exception {
        try (MosaicClient client = MosaicClient.discover("image").registry(registry.address())
                .timeout(Duration.ofSeconds(10)).build()) {
            ImageService.Iface image = client.image();
            assertThrows(NoInstanceException.class, image::ping, "nothing is registered yet");
            assertTrue(client.watching());

            try (ServerProcess first = ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS)) {
                assertTrue(await(() -> lists(client, first), 5), "the registration reached the client: " + client.instances());
                image.ping();
                try (ServerProcess drained = ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS,
                        "--weight", "0")) {
                    assertTrue(await(() -> lists(client, drained), 5), client.instances().toString());
                    for (int i = 0; i < 20; i++) {
                        image.ping();
                    }
                    InstanceStats zero = client.instances().stream()
                        .filter(s -> s.address().equals(drained.address())).findFirst().orElseThrow();
                    assertEquals(0, zero.weight());
                    assertEquals(0, zero.calls(), "weight 0 takes no new calls");
                }
                // SIGTERM deregisters: it leaves at once, not after its TTL.
                long stopped = System.nanoTime();
                assertTrue(await(() -> client.instances().size() == 1, 5), client.instances().toString());
                assertTrue(System.nanoTime() - stopped < TimeUnit.MILLISECONDS.toNanos(TTL_MILLIS),
                    "left after " + (System.nanoTime() - stopped) / 1_000_000 + " ms");
                image.ping();
            }
            assertTrue(await(() -> client.instances().isEmpty(), 5), client.instances().toString());
            assertThrows(NoInstanceException.class, image::ping);
        }
    }

    @Test
    void weightsComeFromTheRegistry() throws Exception {
        try (ServerProcess heavy = ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS, "--weight", "300");
             ServerProcess light = ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS, "--weight", "100");
             MosaicClient client = MosaicClient.discover("image").registry(registry.address())
                 .balancer(Balancer.ROUND_ROBIN).build()) {
            assertTrue(await(() -> lists(client, heavy) && lists(client, light), 5), client.instances().toString());
            for (int i = 0; i < 40; i++) {
                client.image().ping();
            }
            assertEquals(30, BalancingTest.calls(client, heavy), client.instances().toString());
            assertEquals(10, BalancingTest.calls(client, light), client.instances().toString());
        }
    }

    /** Keys stay on their instances when another instance leaves; only the leaver's keys move. */
    @Test
    void keysStayPutWhenAnotherInstanceLeaves() throws Exception {
        List<ServerProcess> servers = new ArrayList<>();
        try (MosaicClient client = MosaicClient.discover("image").registry(registry.address())
                .balancer(Balancer.HASH).build()) {
            for (int i = 0; i < 3; i++) {
                servers.add(ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS));
            }
            assertTrue(await(() -> client.instances().size() == 3, 5), client.instances().toString());
            Map<String, String> owners = new HashMap<>();
            for (int key = 0; key < 20; key++) {
                owners.put("k" + key, ownerOf(client, "k" + key));
            }
            ServerProcess leaving = servers.remove(0);
            leaving.close();
            assertTrue(await(() -> client.instances().size() == 2, 5), client.instances().toString());
            int moved = 0;
            for (Map.Entry<String, String> entry : owners.entrySet()) {
                String now = ownerOf(client, entry.getKey());
                if (entry.getValue().equals(leaving.address())) {
                    moved++;
                } else {
                    assertEquals(entry.getValue(), now, "key " + entry.getKey() + " moved although its instance stayed");
                }
            }
            System.out.println("discovery: " + moved + " of 20 keys moved with the instance that left");
        } finally {
            for (ServerProcess server : servers) {
                server.close();
            }
        }
    }

    /** The instance one call with {@code key} goes to. */
    private static String ownerOf(MosaicClient client, String key) throws Exception {
        Map<String, Long> before = new HashMap<>();
        client.instances().forEach(s -> before.put(s.address(), s.calls()));
        client.withKey(key).image().ping();
        for (InstanceStats after : client.instances()) {
            if (after.calls() != before.getOrDefault(after.address(), 0L)) {
                return after.address();
            }
        }
        throw new AssertionError("the call with key " + key + " went nowhere");
    }

    @Test
    void registriesAreTriedInTurn() throws Exception {
        String down = "127.0.0.1:" + Ports.closed();
        try (ServerProcess server = ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS);
             MosaicClient client = MosaicClient.discover("image").registry(down, registry.address()).build()) {
            assertTrue(await(() -> lists(client, server), 10), client.instances().toString());
            client.image().ping();
        }
    }

    @Test
    void withoutARegistryCallsFailAtOnce() throws Exception {
        String down = "127.0.0.1:" + Ports.closed();
        try (MosaicClient client = MosaicClient.discover("image").registry(down).timeout(Duration.ofSeconds(20)).build()) {
            long started = System.nanoTime();
            NoInstanceException e = assertThrows(NoInstanceException.class, () -> client.image().ping());
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "failed after the whole timeout");
            assertTrue(e.getMessage().contains(down), e.getMessage());
        }
    }

    @Test
    void closeEndsTheWatchAtOnce() throws Exception {
        MosaicClient client = MosaicClient.discover("image").registry(registry.address()).build();
        assertTrue(await(client::watching, 5));
        Thread.sleep(200);  // the watch is parked in a long poll by now
        long started = System.nanoTime();
        client.close();
        long took = System.nanoTime() - started;
        assertFalse(client.watching());
        assertTrue(took < TimeUnit.SECONDS.toNanos(1), "close took " + took / 1_000_000 + " ms");
        assertThrows(ClientClosedException.class, () -> client.image().ping());
    }

    @Test
    void aDiscoverClientNeedsARegistry() {
        assertThrows(IllegalStateException.class, () -> MosaicClient.discover("image").build());
        assertThrows(IllegalStateException.class, () -> MosaicClient.builder("127.0.0.1:1").registry("127.0.0.1:2"));
        assertThrows(IllegalArgumentException.class, () -> MosaicClient.discover("no spaces"));
    }
}
