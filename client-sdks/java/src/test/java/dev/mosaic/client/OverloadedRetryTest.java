package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mosaic.common.Overloaded;
import dev.mosaic.image.Image;
import dev.mosaic.image.ImageService;
import dev.mosaic.image.Op;
import dev.mosaic.image.PixelFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A server whose CPU pool and queue are full answers {@code common.Overloaded} before it
 * starts the call, so the client sends the call to another instance. The pool is filled for
 * real: one client floods one server with slow transforms.
 */
class OverloadedRetryTest {
    /** A transform that keeps a CPU thread of a debug build busy for a while: a wide blur. */
    private static final List<Op> SLOW = List.of(Ops.blur(15));
    /** The busy server's queue per core ({@code mosaic serve image --queue-per-core}). */
    private static final int QUEUE_PER_CORE = 2;

    @Test
    void anOverloadedInstanceSendsTheCallElsewhere() throws Exception {
        Path mosaic = ImageServiceTest.imageServerBinary();
        Image picture = Images.raw(512, 512, PixelFormat.RGB8, new byte[512 * 512 * 3]);
        // A short queue, so that a call that does find a free slot on the busy server waits
        // for a few blurs, not for 64 per core.
        try (ServerProcess busy = ServerProcess.imageServer(mosaic, "--queue-per-core", String.valueOf(QUEUE_PER_CORE));
             ServerProcess idle = ServerProcess.imageServer(mosaic);
             MosaicClient flood = MosaicClient.builder(busy.address()).retries(0).asyncConnections(4)
                 .timeout(Duration.ofSeconds(120)).build();
             MosaicClient client = MosaicClient.builder(List.of(busy.address(), idle.address()))
                 .balancer(Balancer.ROUND_ROBIN).build()) {
            // Far more than the server admits (a thread per core, QUEUE_PER_CORE queued per core).
            int floodCalls = Runtime.getRuntime().availableProcessors() * (QUEUE_PER_CORE + 1) + 100;
            List<CompletableFuture<Image>> flooding = new ArrayList<>();
            for (int i = 0; i < floodCalls; i++) {
                flooding.add(flood.imageAsync().transform(picture, SLOW, Outputs.raw()));
            }
            // The flood sees refusals once the server is full.
            long refused = 0;
            for (CompletableFuture<Image> call : flooding.subList(flooding.size() - 50, flooding.size())) {
                try {
                    call.get(120, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Overloaded) {
                        refused++;
                    }
                }
            }
            assertTrue(refused > 0, "the flood never filled the server");
            ImageService.Iface image = client.image();
            for (int i = 0; i < 10; i++) {
                // Top the queue up before each call, so that the server is still full when the
                // call reaches it rather than having drained a slot meanwhile.
                for (int j = 0; j < 20; j++) {
                    flooding.add(flood.imageAsync().transform(picture, SLOW, Outputs.raw()));
                }
                image.transform(picture, List.of(Ops.grayscale()), Outputs.raw());   // none may fail
            }
            InstanceStats full = BalancingTest.stats(client).get(busy.address());
            long servedByIdle = BalancingTest.calls(client, idle);
            assertTrue(full.errors() >= 1, "no call met the full server: " + client.instances());
            // Every call was answered once: by the idle server, or by the busy one when a queue
            // slot happened to be free at that moment. None was lost to the refusals.
            assertEquals(10, servedByIdle + full.calls() - full.errors(), "calls answered: " + client.instances());
            System.out.println("overload: " + full.errors() + " calls refused as Overloaded went to the other instance; "
                + (full.calls() - full.errors()) + " found a free slot on the busy server");
            busy.kill();   // rather than wait for the flood to drain
        }
    }
}
