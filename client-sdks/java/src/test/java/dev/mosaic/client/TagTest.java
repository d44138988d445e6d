package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MosaicClient.Builder#tag}: a real {@code mosaic registry} lists image servers
 * registered with and without {@code --tag}s, and a client asking for tags calls only the
 * instances that carry all of them, never the others, for each balancer, blocking and async.
 * Which server answered is read from the servers themselves: each one's
 * {@code Health.status().served}, through a client of its own address.
 */
class TagTest {
    private static final int TTL_MILLIS = 3000;
    /** Calls per round; a multiple of 2 and 3, so round robin splits it evenly. */
    private static final int CALLS = 48;
    private static final List<Balancer> BALANCERS = List.of(Balancer.P2C, Balancer.ROUND_ROBIN, Balancer.HASH);

    private static Path mosaic;
    private static ServerProcess registry;
    /** {@code gpu=a100 mem=80g}. */
    private static ServerProcess a100Big;
    /** {@code gpu=a100}. */
    private static ServerProcess a100;
    /** {@code gpu=h100 mem=80g}. */
    private static ServerProcess h100Big;
    /** {@code gpu=A100 mem=80g}: values match exactly, case included. */
    private static ServerProcess upperA100;
    /** No tags. */
    private static ServerProcess plain;
    /** Every server this test started, with a client of its own address to read its status. */
    private static final Map<ServerProcess, MosaicClient> direct = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        mosaic = ImageServiceTest.imageServerBinary();
        registry = ServerProcess.registry(mosaic);
        a100Big = tagged("gpu=a100", "mem=80g");
        a100 = tagged("gpu=a100");
        h100Big = tagged("gpu=h100", "mem=80g");
        upperA100 = tagged("gpu=A100", "mem=80g");
        plain = tagged();
    }

    @AfterAll
    static void stop() throws Exception {
        for (MosaicClient client : direct.values()) {
            client.close();
        }
        for (ServerProcess process : new ServerProcess[] {a100Big, a100, h100Big, upperA100, plain, registry}) {
            if (process != null) {
                process.close();
            }
        }
    }

    @Test
    void onlyTaggedInstancesGetCalls() throws Exception {
        for (Balancer balancer : BALANCERS) {
            try (MosaicClient client = client(balancer, "gpu", "a100")) {
                awaitListing(client, a100Big, a100);
                assertEquals(Map.of("gpu", "a100"), client.tags());

                Map<String, Long> blocking = servedDuring(() -> blockingCalls(client));
                assertOnly(blocking, CALLS, a100Big, a100);
                assertEquals(2, blocking.size(), balancer + " used both a100 instances: " + blocking);
                if (balancer == Balancer.ROUND_ROBIN) {
                    assertEquals(Map.of(a100Big.address(), (long) CALLS / 2, a100.address(), (long) CALLS / 2), blocking);
                }

                Map<String, Long> async = servedDuring(() -> asyncCalls(client));
                assertOnly(async, CALLS, a100Big, a100);

                // What the client counted agrees: it knows no other instance.
                assertEquals(Set.of(a100Big.address(), a100.address()), listed(client));
                long counted = client.instances().stream().mapToLong(InstanceStats::calls).sum();
                assertEquals(2L * CALLS, counted, client.instances().toString());
            }
        }
    }

    @Test
    void everyTagMustMatch() throws Exception {
        try (MosaicClient both = client(Balancer.ROUND_ROBIN, "gpu", "a100", "mem", "80g");
             MosaicClient memory = client(Balancer.ROUND_ROBIN, "mem", "80g");
             MosaicClient upper = client(Balancer.ROUND_ROBIN, "gpu", "A100")) {
            awaitListing(both, a100Big);
            awaitListing(memory, a100Big, h100Big, upperA100);
            awaitListing(upper, upperA100);
            assertEquals(Map.of("gpu", "a100", "mem", "80g"), both.tags());

            assertEquals(Map.of(a100Big.address(), (long) CALLS), servedDuring(() -> blockingCalls(both)));
            assertEquals(Map.of(a100Big.address(), (long) CALLS), servedDuring(() -> asyncCalls(both)));
            long third = CALLS / 3;
            assertEquals(Map.of(a100Big.address(), third, h100Big.address(), third, upperA100.address(), third),
                servedDuring(() -> blockingCalls(memory)));
            assertOnly(servedDuring(() -> asyncCalls(memory)), CALLS, a100Big, h100Big, upperA100);
            assertEquals(Map.of(upperA100.address(), (long) CALLS), servedDuring(() -> blockingCalls(upper)));
        }
    }

    /**
     * Tags filter every list the registry sends: an instance registering with the tags joins
     * and gets calls; one registering without them (seen by an untagged client first, so the
     * tagged client has had a list with it) is never listed nor called, also after later changes.
     */
    @Test
    void laterRegistrationsAreFilteredToo() throws Exception {
        try (MosaicClient client = client(Balancer.ROUND_ROBIN, "gpu", "a100");
             MosaicClient everything = MosaicClient.discover("image").registry(registry.address())
                 .timeout(Duration.ofSeconds(10)).build()) {
            awaitListing(client, a100Big, a100);
            ServerProcess other = tagged("gpu=h100");
            try {
                awaitListing(everything, a100Big, a100, h100Big, upperA100, plain, other);
                ServerProcess late = tagged("gpu=a100", "rack=7");
                try {
                    // Registered after `other`: a list with `late` has `other` too.
                    awaitListing(client, a100Big, a100, late);
                    Map<String, Long> got = servedDuring(() -> blockingCalls(client));
                    long third = CALLS / 3;
                    assertEquals(Map.of(a100Big.address(), third, a100.address(), third, late.address(), third), got);
                    assertOnly(servedDuring(() -> asyncCalls(client)), CALLS, a100Big, a100, late);
                } finally {
                    unwatch(late);
                    late.close();   // SIGTERM: it deregisters
                }
                awaitListing(everything, a100Big, a100, h100Big, upperA100, plain, other);
                awaitListing(client, a100Big, a100);
                assertEquals(Map.of(a100Big.address(), (long) CALLS / 2, a100.address(), (long) CALLS / 2),
                    servedDuring(() -> blockingCalls(client)));
                assertFalse(listed(client).contains(other.address()), client.instances().toString());
            } finally {
                unwatch(other);
                other.close();
            }
        }
    }

    @Test
    void nothingMatchingFailsNamingTheTags() throws Exception {
        Duration timeout = Duration.ofSeconds(5);
        try (MosaicClient tpu = MosaicClient.discover("image").registry(registry.address())
                 .tag("gpu", "tpu").timeout(timeout).build();
             MosaicClient halfMatching = MosaicClient.discover("image").registry(registry.address())
                 .tag("mem", "40g").tag("gpu", "a100").timeout(timeout).build()) {
            Map<String, Long> served = servedDuring(() -> {
                long started = System.nanoTime();
                NoInstanceException blocking = assertThrows(NoInstanceException.class, () -> tpu.image().ping());
                assertTrue(System.nanoTime() - started < timeout.toNanos(),
                    "failed within the call's timeout: " + Duration.ofNanos(System.nanoTime() - started));
                assertTrue(blocking.getMessage().contains("no instance of image"), blocking.getMessage());
                assertTrue(blocking.getMessage().contains("tagged gpu=tpu"), blocking.getMessage());
                // The instances it left out are counted, not called.
                assertTrue(blocking.getMessage().contains("instances are listed without these tags"), blocking.getMessage());

                started = System.nanoTime();
                ExecutionException async = assertThrows(ExecutionException.class,
                    () -> tpu.imageAsync().ping().get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS));
                assertTrue(System.nanoTime() - started < timeout.toNanos(), "async: within the call's timeout");
                assertInstanceOf(NoInstanceException.class, async.getCause());
                assertTrue(async.getCause().getMessage().contains("tagged gpu=tpu"), async.getCause().getMessage());

                // Several tags are named, sorted by key; one of them matching is not enough.
                NoInstanceException both = assertThrows(NoInstanceException.class, () -> halfMatching.image().ping());
                assertTrue(both.getMessage().contains("tagged gpu=a100, mem=40g"), both.getMessage());
                assertTrue(halfMatching.instances().isEmpty(), halfMatching.instances().toString());
                assertTrue(tpu.instances().isEmpty(), tpu.instances().toString());
                assertTrue(tpu.toString().contains("tagged gpu=tpu"), tpu.toString());
            });
            assertEquals(Map.of(), served);
        }
    }

    @Test
    void tagsNeedDiscovery() throws Exception {
        String address = "127.0.0.1:" + Ports.closed();
        IllegalStateException single = assertThrows(IllegalStateException.class,
            () -> MosaicClient.builder(address).tag("gpu", "a100").build());
        assertTrue(single.getMessage().contains("discover"), single.getMessage());
        assertTrue(single.getMessage().contains("gpu=a100"), single.getMessage());
        List<String> addresses = List.of(address, "127.0.0.1:" + Ports.closed());
        assertThrows(IllegalStateException.class, () -> MosaicClient.builder(addresses).tag("gpu", "a100").build());

        assertThrows(NullPointerException.class, () -> MosaicClient.discover("image").tag(null, "a100"));
        assertThrows(NullPointerException.class, () -> MosaicClient.discover("image").tag("gpu", null));
        assertThrows(IllegalArgumentException.class, () -> MosaicClient.discover("image").tag("", "a100"));

        // An empty value is a value; a key given again takes the later value.
        try (MosaicClient client = MosaicClient.discover("image").registry(registry.address())
                 .tag("gpu", "a100").tag("gpu", "h100").tag("note", "").build();
             MosaicClient untagged = MosaicClient.discover("image").registry(registry.address()).build()) {
            assertEquals(Map.of("gpu", "h100", "note", ""), client.tags());
            assertEquals(Map.of(), untagged.tags());
        }
    }

    /** {@code mosaic serve image} registered with the registry with {@code tags} ({@code key=value} each). */
    private static ServerProcess tagged(String... tags) throws Exception {
        List<String> options = new ArrayList<>();
        for (String tag : tags) {
            options.add("--tag");
            options.add(tag);
        }
        ServerProcess server = ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS,
            options.toArray(String[]::new));
        synchronized (direct) {
            direct.put(server, MosaicClient.builder(server.address()).timeout(Duration.ofSeconds(10)).build());
        }
        return server;
    }

    /** Stops reading the status of {@code server}, which is about to stop. */
    private static void unwatch(ServerProcess server) {
        MosaicClient client;
        synchronized (direct) {
            client = direct.remove(server);
        }
        if (client != null) {
            client.close();
        }
    }

    /** A client of the image instances tagged with {@code tags} (key, value, key, value, ...). */
    private static MosaicClient client(Balancer balancer, String... tags) {
        MosaicClient.Builder builder = MosaicClient.discover("image").registry(registry.address())
            .balancer(balancer).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < tags.length; i += 2) {
            builder.tag(tags[i], tags[i + 1]);
        }
        return builder.build();
    }

    /** Waits (at most 10 seconds) until {@code client} lists exactly {@code servers}. */
    private static void awaitListing(MosaicClient client, ServerProcess... servers) throws InterruptedException {
        Set<String> expected = Stream.of(servers).map(ServerProcess::address).collect(Collectors.toSet());
        assertTrue(DiscoveryTest.await(() -> listed(client).equals(expected), 10),
            "expected " + expected + ", the client lists " + client.instances());
    }

    private static Set<String> listed(MosaicClient client) {
        return client.instances().stream().map(InstanceStats::address).collect(Collectors.toSet());
    }

    /** {@link #CALLS} blocking pings (with keys {@code key-0}, {@code key-1}, ... for HASH). */
    private static void blockingCalls(MosaicClient client) throws Exception {
        for (int i = 0; i < CALLS; i++) {
            (client.balancer() == Balancer.HASH ? client.withKey("key-" + i).image() : client.image()).ping();
        }
    }

    /** {@link #CALLS} async pings at once, all answered. */
    private static void asyncCalls(MosaicClient client) throws Exception {
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
            calls.add(client.imageAsync().ping());
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    }

    interface Calls {
        void run() throws Exception;
    }

    /**
     * Runs {@code calls}; the calls each server this test runs answered meanwhile (none:
     * absent), as the servers count them, less the {@code status} call that read the count
     * before (it is counted once it is answered).
     */
    private static Map<String, Long> servedDuring(Calls calls) throws Exception {
        Map<ServerProcess, MosaicClient> servers;
        synchronized (direct) {
            servers = new LinkedHashMap<>(direct);
        }
        Map<ServerProcess, Long> before = new LinkedHashMap<>();
        for (Map.Entry<ServerProcess, MosaicClient> server : servers.entrySet()) {
            before.put(server.getKey(), server.getValue().image().status().getServed());
        }
        calls.run();
        Map<String, Long> got = new TreeMap<>();
        for (Map.Entry<ServerProcess, MosaicClient> server : servers.entrySet()) {
            long served = server.getValue().image().status().getServed() - before.get(server.getKey()) - 1;
            if (served != 0) {
                got.put(server.getKey().address(), served);
            }
        }
        return got;
    }

    /** {@code got} has {@code total} calls, all on {@code servers}. */
    private static void assertOnly(Map<String, Long> got, long total, ServerProcess... servers) {
        Set<String> allowed = Stream.of(servers).map(ServerProcess::address).collect(Collectors.toSet());
        assertTrue(allowed.containsAll(got.keySet()), "calls went outside " + allowed + ": " + got);
        assertEquals(total, got.values().stream().mapToLong(Long::longValue).sum(), got.toString());
    }
}
