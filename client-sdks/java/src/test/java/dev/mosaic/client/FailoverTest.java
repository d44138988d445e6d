package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mosaic.image.ImageService;
import dev.mosaic.registry.Registry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The failover drill, from Java: a registry and three image servers, steady load from Java
 * threads, one server killed with SIGKILL, then the registry killed too.
 *
 * <p>No call that could be retried is lost: the load runs through two clients, one whose
 * calls are idempotent (nothing may fail) and one whose are not (only calls that were in
 * flight on the dead server, their requests sent, may fail). The dead server leaves the
 * registry's lookup within one TTL (plus a margin) and then the client's list; with the
 * registry gone, calls go on over the list the client holds.
 */
class FailoverTest {
    private static final int TTL_MILLIS = 3000;
    private static final int MARGIN_MILLIS = 2000;
    private static final int THREADS_PER_CLIENT = 3;

    /** Threads calling {@code ping} until stopped, counting what happens. */
    private static final class Load {
        final AtomicLong calls = new AtomicLong();
        final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        Load(ImageService.Iface image, String name) {
            for (int t = 0; t < THREADS_PER_CLIENT; t++) {
                Thread thread = new Thread(() -> {
                    while (running.get()) {
                        try {
                            image.ping();
                        } catch (Exception e) {
                            errors.add(e);
                        }
                        calls.incrementAndGet();
                    }
                }, name + "-" + t);
                thread.setDaemon(true);
                thread.start();
                threads.add(thread);
            }
        }

        /** Stops the threads and waits for their last calls. */
        void stop() throws InterruptedException {
            running.set(false);
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
        }
    }

    @Test
    void killingAServerAndThenTheRegistryLosesNoRetryableCall() throws Exception {
        Path mosaic = ImageServiceTest.imageServerBinary();
        ServerProcess registry = ServerProcess.registry(mosaic);
        List<ServerProcess> servers = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                servers.add(ServerProcess.registeredImageServer(mosaic, registry.address(), TTL_MILLIS));
            }
            try (MosaicClient lookup = MosaicClient.builder(registry.address()).timeout(Duration.ofSeconds(5)).build();
                 MosaicClient plain = MosaicClient.discover("image").registry(registry.address()).build();
                 MosaicClient idempotent = MosaicClient.discover("image").registry(registry.address()).idempotent(true).build()) {
                Registry.Iface registryClient = lookup.service(Registry.Iface.class, Registry.Client::new);
                assertTrue(DiscoveryTest.await(() -> plain.instances().size() == 3 && idempotent.instances().size() == 3, 10),
                    plain.instances().toString());

                long killedAt;
                ServerProcess victim = servers.get(1);
                long beforeRegistryDied;
                long afterRegistryDied;
                Load plainLoad = new Load(plain.image(), "plain");
                Load idempotentLoad = new Load(idempotent.image(), "idempotent");
                try {
                    Thread.sleep(500);
                    victim.kill();
                    killedAt = System.nanoTime();

                    // The registry drops it once its lease runs out.
                    boolean gone = DiscoveryTest.await(() -> {
                        try {
                            return registryClient.lookup("image").getInstances().stream()
                                .noneMatch(instance -> instance.getPort() == victim.port());
                        } catch (Exception e) {
                            return false;
                        }
                    }, (TTL_MILLIS + MARGIN_MILLIS) / 1000 + 1);
                    long goneAfter = (System.nanoTime() - killedAt) / 1_000_000;
                    assertTrue(gone, "still listed " + goneAfter + " ms after the kill");
                    assertTrue(goneAfter <= TTL_MILLIS + MARGIN_MILLIS, "left the lookup after " + goneAfter + " ms");
                    // ... and the watchers hear of it.
                    assertTrue(DiscoveryTest.await(() -> !DiscoveryTest.lists(plain, victim)
                        && !DiscoveryTest.lists(idempotent, victim), 2), plain.instances().toString());
                    System.out.printf("failover: the killed server left the registry's lookup after %d ms (TTL %d ms)%n",
                        goneAfter, TTL_MILLIS);

                    registry.kill();
                    beforeRegistryDied = plainLoad.calls.get() + idempotentLoad.calls.get();
                    Thread.sleep(1500);
                    afterRegistryDied = plainLoad.calls.get() + idempotentLoad.calls.get();
                    assertEquals(2, plain.instances().size(), "the list outlives the registry");
                    assertTrue(plain.watching(), "the watcher keeps trying");
                    plainLoad.stop();
                    idempotentLoad.stop();

                    System.out.printf("failover: %d plain calls, %d failed; %d idempotent calls, %d failed%n",
                        plainLoad.calls.get(), plainLoad.errors.size(), idempotentLoad.calls.get(), idempotentLoad.errors.size());
                    System.out.println("failover: per instance (plain client): " + plain.instances());
                    assertTrue(idempotentLoad.errors.isEmpty(), "idempotent calls failed: " + idempotentLoad.errors);
                    for (Throwable error : plainLoad.errors) {
                        // Only a call whose request reached the dead server may fail: it may have run.
                        assertTrue(error instanceof TransportFailedException && !(error instanceof ConnectFailedException)
                            && ((TransportFailedException) error).requestSent(), "a retryable call failed: " + error);
                        assertTrue(((TransportFailedException) error).address().equals(victim.address()), error.toString());
                    }
                } finally {
                    plainLoad.stop();
                    idempotentLoad.stop();
                }
                assertTrue(afterRegistryDied - beforeRegistryDied > 100,
                    "calls went on without the registry: " + (afterRegistryDied - beforeRegistryDied));
                assertFalse(plain.instances().stream().anyMatch(s -> s.outstanding() != 0), plain.instances().toString());
            }
        } finally {
            for (ServerProcess server : servers) {
                server.close();
            }
            registry.close();
        }
    }
}
