package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mosaic.registry.Registration;
import dev.mosaic.registry.Registry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MosaicClient.Builder#zone}: a real {@code mosaic registry} lists image servers
 * registered with {@code --zone eu-1} and {@code --zone us-1}, and a client that prefers
 * eu-1 sends every call there while an eu-1 instance can take it, to us-1 once they are gone,
 * unreachable (ejected) or already tried by the call, and back when one returns; for each
 * balancer. Without a zone nothing changes. Instances nothing serves are registered by hand
 * through the registry's API. What each instance got is read from
 * {@link MosaicClient#instances()}.
 */
class ZoneTest {
    private static final int TTL_MILLIS = 3000;
    /** Calls per round; a multiple of 2 and 4, so round robin splits it evenly. */
    private static final int CALLS = 40;
    private static final List<Balancer> BALANCERS = List.of(Balancer.P2C, Balancer.ROUND_ROBIN, Balancer.HASH);

    private static Path mosaic;
    private static ServerProcess registry;
    /** The other zone: listed throughout. */
    private static ServerProcess us1;
    private static ServerProcess us2;
    /** Registers instances by hand: addresses where no image server runs. */
    private static MosaicClient registryClient;
    private static Registry.Iface registrar;

    @BeforeAll
    static void start() throws Exception {
        mosaic = ImageServiceTest.imageServerBinary();
        registry = ServerProcess.registry(mosaic);
        us1 = inZone("us-1");
        us2 = inZone("us-1");
        registryClient = MosaicClient.builder(registry.address()).timeout(Duration.ofSeconds(5)).build();
        registrar = registryClient.service(Registry.Iface.class, Registry.Client::new);
    }

    @AfterAll
    static void stop() throws Exception {
        if (registryClient != null) {
            registryClient.close();
        }
        for (ServerProcess process : new ServerProcess[] {us1, us2, registry}) {
            if (process != null) {
                process.close();
            }
        }
    }

    @Test
    void everyCallGoesToTheClientsZone() throws Exception {
        try (ServerProcess eu1 = inZone("eu-1");
             ServerProcess eu2 = inZone("eu-1")) {
            for (Balancer balancer : BALANCERS) {
                try (MosaicClient client = client(balancer, "eu-1")) {
                    awaitListing(client, eu1.address(), eu2.address(), us1.address(), us2.address());
                    Map<String, Long> got = spread(client);
                    assertOnly(got, CALLS, eu1, eu2);
                    assertTrue(got.size() == 2, balancer + " used both eu-1 instances: " + got);
                    if (balancer == Balancer.ROUND_ROBIN) {
                        assertEquals(Map.of(eu1.address(), 20L, eu2.address(), 20L), got);
                    }
                    if (balancer == Balancer.HASH) {
                        // A key keeps to one instance of the zone; calls without a key stay there too.
                        for (int i = 0; i < 5; i++) {
                            assertEquals(owner(client, "key-" + i), owner(client, "key-" + i), "key-" + i);
                        }
                        assertOnly(delta(client, () -> client.image().ping()), 1, eu1, eu2);
                    }
                    // Async calls pick the same way.
                    Map<String, Long> async = delta(client, () -> {
                        List<CompletableFuture<Void>> calls = new ArrayList<>();
                        for (int i = 0; i < CALLS; i++) {
                            calls.add(client.imageAsync().ping());
                        }
                        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                    });
                    assertOnly(async, CALLS, eu1, eu2);
                    assertEquals("eu-1", client.zone());
                }
            }
        }
    }

    @Test
    void callsLeaveTheZoneWhenItsInstancesAreGoneAndComeBack() throws Exception {
        List<MosaicClient> clients = new ArrayList<>();
        ServerProcess eu1 = inZone("eu-1");
        try {
            for (Balancer balancer : BALANCERS) {
                clients.add(client(balancer, "eu-1"));
            }
            for (MosaicClient client : clients) {
                awaitListing(client, eu1.address(), us1.address(), us2.address());
                assertOnly(spread(client), CALLS, eu1);
            }

            eu1.close();   // SIGTERM: it deregisters
            for (MosaicClient client : clients) {
                awaitListing(client, us1.address(), us2.address());
                Map<String, Long> got = spread(client);
                assertOnly(got, CALLS, us1, us2);
                if (client.balancer() == Balancer.ROUND_ROBIN) {
                    assertEquals(Map.of(us1.address(), 20L, us2.address(), 20L), got);
                }
            }

            try (ServerProcess back = inZone("eu-1")) {
                for (MosaicClient client : clients) {
                    awaitListing(client, back.address(), us1.address(), us2.address());
                    assertOnly(spread(client), CALLS, back);
                }
            }
        } finally {
            eu1.close();
            clients.forEach(MosaicClient::close);
        }
    }

    /**
     * eu-1 instances the registry lists but nothing listens for: each is tried, refuses, is
     * ejected and passed over, and the calls (retried, none failing) are answered in us-1.
     */
    @Test
    void callsLeaveTheZoneWhileItsInstancesAreEjected() throws Exception {
        String dead1 = "127.0.0.1:" + Ports.closed();
        String dead2 = "127.0.0.1:" + Ports.closed();
        while (dead2.equals(dead1)) {
            dead2 = "127.0.0.1:" + Ports.closed();
        }
        long lease1 = register(dead1, "eu-1");
        long lease2 = register(dead2, "eu-1");
        try {
            for (Balancer balancer : BALANCERS) {
                try (MosaicClient client = client(balancer, "eu-1")) {
                    awaitListing(client, dead1, dead2, us1.address(), us2.address());
                    Map<String, Long> got = spread(client);   // throws if a call failed
                    Map<String, InstanceStats> stats = BalancingTest.stats(client);
                    long toDead = got.getOrDefault(dead1, 0L) + got.getOrDefault(dead2, 0L);
                    assertEquals(CALLS, got.getOrDefault(us1.address(), 0L) + got.getOrDefault(us2.address(), 0L),
                        balancer + ": every call was answered in us-1: " + got);
                    assertTrue(toDead >= 1, balancer + ": the first call tried eu-1: " + got);
                    // Ejected, they are passed over: only a trial now and then after a backoff.
                    assertTrue(toDead < CALLS, balancer + ": " + got);
                    assertEquals(stats.get(dead1).calls(), stats.get(dead1).errors(), stats.get(dead1).toString());
                    assertEquals(stats.get(dead2).calls(), stats.get(dead2).errors(), stats.get(dead2).toString());
                }
            }
        } finally {
            registrar.deregister_instance(lease1);
            registrar.deregister_instance(lease2);
        }
    }

    /**
     * An eu-1 instance that hangs up on every call: a broken connection does not eject it, so
     * it stays the zone's choice for each new call, but an idempotent call's retry leaves it
     * (this call tried it) for us-1.
     */
    @Test
    void aRetryLeavesTheZoneItsCallAlreadyTried() throws Exception {
        try (HangUpServer hangUp = new HangUpServer()) {
            long lease = register(hangUp.address(), "eu-1");
            try {
                for (Balancer balancer : BALANCERS) {
                    try (MosaicClient client = MosaicClient.discover("image").registry(registry.address())
                            .balancer(balancer).zone("eu-1").idempotent(true).timeout(Duration.ofSeconds(10)).build()) {
                        awaitListing(client, hangUp.address(), us1.address(), us2.address());
                        Map<String, Long> got = spread(client);   // throws if a call failed
                        assertEquals(CALLS, got.getOrDefault(us1.address(), 0L) + got.getOrDefault(us2.address(), 0L),
                            balancer + ": every call was answered in us-1: " + got);
                        assertEquals(CALLS, got.get(hangUp.address()), balancer + ": each call tried eu-1 once: " + got);
                    }
                }
            } finally {
                registrar.deregister_instance(lease);
            }
        }
    }

    @Test
    void withoutAZoneNothingChanges() throws Exception {
        try (ServerProcess eu1 = inZone("eu-1");
             ServerProcess eu2 = inZone("eu-1");
             MosaicClient plain = client(Balancer.ROUND_ROBIN, null);
             MosaicClient elsewhere = client(Balancer.ROUND_ROBIN, "ap-9");
             MosaicClient p2c = client(Balancer.P2C, null);
             MosaicClient hashed = client(Balancer.HASH, null);
             MosaicClient hashedInZone = client(Balancer.HASH, "eu-1")) {
            ServerProcess[] all = {eu1, eu2, us1, us2};
            String[] addresses = Stream.of(all).map(ServerProcess::address).toArray(String[]::new);
            for (MosaicClient client : List.of(plain, elsewhere, p2c, hashed, hashedInZone)) {
                awaitListing(client, addresses);
            }
            assertNull(plain.zone());

            // Round robin takes plain turns over both zones, also for a zone with no instance.
            Map<String, Long> turns = Map.of(eu1.address(), 10L, eu2.address(), 10L, us1.address(), 10L, us2.address(), 10L);
            assertEquals(turns, spread(plain));
            assertEquals(turns, spread(elsewhere));

            Map<String, Long> drawn = delta(p2c, () -> {
                for (int i = 0; i < 5 * CALLS; i++) {
                    p2c.image().ping();
                }
            });
            assertOnly(drawn, 5 * CALLS, all);
            assertEquals(4, drawn.size(), "p2c reached every instance: " + drawn);

            // Keys spread over both zones; with the zone, a key whose instance is in it keeps it.
            Set<String> owners = new HashSet<>();
            for (int i = 0; i < CALLS; i++) {
                String key = "key-" + i;
                String owner = owner(hashed, key);
                owners.add(owner);
                if (owner.equals(eu1.address()) || owner.equals(eu2.address())) {
                    assertEquals(owner, owner(hashedInZone, key), key);
                }
            }
            assertTrue(owners.contains(us1.address()) || owners.contains(us2.address()), "keys reach us-1: " + owners);
            assertTrue(owners.contains(eu1.address()) || owners.contains(eu2.address()), "keys reach eu-1: " + owners);
        }
    }

    @Test
    void aZoneIsNamed() {
        assertThrows(IllegalArgumentException.class, () -> MosaicClient.discover("image").zone(""));
        assertThrows(NullPointerException.class, () -> MosaicClient.discover("image").zone(null));
    }

    /** {@code mosaic serve image} registered with the registry in {@code zone}. */
    private static ServerProcess inZone(String zone) throws Exception {
        return ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS, "--zone", zone);
    }

    /** Registers {@code address} as an image instance in {@code zone} for a minute; the lease. */
    private static long register(String address, String zone) throws Exception {
        Endpoint endpoint = Endpoint.parse(address);
        return registrar.register_instance(Registration.newBuilder()
            .setService_name("image").setHost(endpoint.host()).setPort(endpoint.port())
            .setWeight(100).setZone(zone).setTtl_ms(60_000).build()).getId();
    }

    /** A client of every image instance the registry lists, preferring {@code zone} ({@code null}: none). */
    private static MosaicClient client(Balancer balancer, String zone) {
        MosaicClient.Builder builder = MosaicClient.discover("image").registry(registry.address())
            .balancer(balancer).timeout(Duration.ofSeconds(10));
        return (zone == null ? builder : builder.zone(zone)).build();
    }

    /** Waits (at most 10 seconds) until {@code client} lists exactly {@code addresses}. */
    private static void awaitListing(MosaicClient client, String... addresses) throws InterruptedException {
        Set<String> expected = Set.of(addresses);
        assertTrue(DiscoveryTest.await(() -> listed(client).equals(expected), 10),
            "expected " + expected + ", the client lists " + client.instances());
    }

    private static Set<String> listed(MosaicClient client) {
        return client.instances().stream().map(InstanceStats::address).collect(Collectors.toSet());
    }

    /** {@link #CALLS} blocking calls (with keys {@code key-0}, {@code key-1}, ... for HASH); the attempts each instance got. */
    private static Map<String, Long> spread(MosaicClient client) throws Exception {
        return delta(client, () -> {
            for (int i = 0; i < CALLS; i++) {
                (client.balancer() == Balancer.HASH ? client.withKey("key-" + i).image() : client.image()).ping();
            }
        });
    }

    /** The instance one call with {@code key} goes to. */
    private static String owner(MosaicClient client, String key) throws Exception {
        Map<String, Long> got = delta(client, () -> client.withKey(key).image().ping());
        assertEquals(1, got.size(), "one attempt for " + key + ": " + got);
        return got.keySet().iterator().next();
    }

    /** Accepts connections and closes each at once, as a server that crashes on every call. */
    private static final class HangUpServer implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

        HangUpServer() throws IOException {
            Thread thread = new Thread(() -> {
                while (!listener.isClosed()) {
                    try {
                        listener.accept().close();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "hang-up-accept");
            thread.setDaemon(true);
            thread.start();
        }

        String address() {
            return "127.0.0.1:" + listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }

    interface Calls {
        void run() throws Exception;
    }

    /** Runs {@code calls}; the attempts each listed instance got meanwhile (none: absent). */
    private static Map<String, Long> delta(MosaicClient client, Calls calls) throws Exception {
        Map<String, Long> before = new HashMap<>();
        client.instances().forEach(s -> before.put(s.address(), s.calls()));
        calls.run();
        Map<String, Long> got = new TreeMap<>();
        for (InstanceStats after : client.instances()) {
            long attempts = after.calls() - before.getOrDefault(after.address(), 0L);
            if (attempts != 0) {
                got.put(after.address(), attempts);
            }
        }
        return got;
    }

    /** {@code got} has {@code total} attempts, all on {@code servers}. */
    private static void assertOnly(Map<String, Long> got, long total, ServerProcess... servers) {
        Set<String> allowed = Stream.of(servers).map(ServerProcess::address).collect(Collectors.toSet());
        assertTrue(allowed.containsAll(got.keySet()), "calls went outside " + allowed + ": " + got);
        assertEquals(total, got.values().stream().mapToLong(Long::longValue).sum(), got.toString());
    }
}
