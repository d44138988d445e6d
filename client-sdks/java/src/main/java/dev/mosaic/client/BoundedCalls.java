package dev.mosaic.client;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs one async call per item of {@code source} and hands each item's {@link Result} to
 * {@code sink} in the order of the items. At most {@code maxInFlight} items are taken and not
 * yet delivered at any time, so at most that many calls are in flight, and results that
 * complete ahead of an earlier item's wait in a buffer of at most that size. Items are taken
 * from the source only when a call may start, so a lazy source is read as the calls progress.
 *
 * <p>One thread at a time runs the loop that delivers results and starts calls: the caller's
 * at first, then one of {@code executor}'s after a call completes, never the connection's
 * reader thread (which must keep reading replies while requests are written); others leave it
 * a note to look again, so a call that completes at once never recurses.
 */
final class BoundedCalls<I, O> {
    private final Iterator<? extends I> source;
    private final Function<? super I, CompletableFuture<O>> call;
    private final int maxInFlight;
    private final Consumer<? super Result<O>> sink;
    private final Executor executor;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    // Guarded by this.
    private final Map<Integer, Result<O>> ready = new HashMap<>();
    private int inFlight;
    private int delivered;
    private int started;
    private boolean exhausted;
    private boolean running;
    private boolean again;

    private BoundedCalls(Iterator<? extends I> source, Function<? super I, CompletableFuture<O>> call, int maxInFlight,
            Consumer<? super Result<O>> sink, Executor executor) {
        this.source = source;
        this.call = call;
        this.maxInFlight = maxInFlight;
        this.sink = sink;
        this.executor = executor;
    }

    /**
     * Starts the calls; the future completes when every item's result has been delivered, and
     * fails if the source or the sink threw. Cancelling it stops further calls from starting.
     */
    static <I, O> CompletableFuture<Void> run(Iterator<? extends I> source, Function<? super I, CompletableFuture<O>> call,
            int maxInFlight, Consumer<? super Result<O>> sink, Executor executor) {
        BoundedCalls<I, O> calls = new BoundedCalls<>(source, call, maxInFlight, sink, executor);
        calls.loop();
        return calls.done;
    }

    private void completed(int index, O value, Throwable error) {
        Result<O> result = error == null ? Result.success(value) : Result.failure(Failures.unwrapFuture(error));
        synchronized (this) {
            ready.put(index, result);
            inFlight--;
        }
        loop();
    }

    private void loop() {
        synchronized (this) {
            if (running) {
                again = true;
                return;
            }
            running = true;
        }
        while (true) {
            try {
                step();
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
            synchronized (this) {
                if (!again) {
                    running = false;
                    return;
                }
                again = false;
            }
        }
    }

    /** Delivers what is ready, in order, and starts calls while there is room. */
    private void step() {
        while (!done.isDone()) {
            Result<O> next;
            boolean start = false;
            boolean finished = false;
            synchronized (this) {
                next = ready.remove(delivered);
                if (next != null) {
                    delivered++;
                } else if (!exhausted && started - delivered < maxInFlight) {
                    start = true;
                    inFlight++;
                } else {
                    finished = exhausted && inFlight == 0 && ready.isEmpty();
                }
            }
            if (finished) {
                // Outside the lock: the future's dependents run here.
                done.complete(null);
                return;
            }
            if (next != null) {
                sink.accept(next);
                continue;
            }
            if (!start) {
                return;
            }
            startNext();
        }
    }

    /** Takes the next item, if any, and starts its call; a place in the window is reserved. */
    private void startNext() {
        boolean more;
        try {
            more = source.hasNext();
        } catch (RuntimeException e) {
            synchronized (this) {
                inFlight--;
            }
            throw e;
        }
        if (!more) {
            synchronized (this) {
                exhausted = true;
                inFlight--;
            }
            return;
        }
        I item;
        try {
            item = source.next();
        } catch (RuntimeException e) {
            synchronized (this) {
                inFlight--;
            }
            throw e;
        }
        int index;
        synchronized (this) {
            index = started++;
        }
        CompletableFuture<O> future;
        try {
            future = call.apply(item);
        } catch (RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        future.whenCompleteAsync((value, error) -> completed(index, value, error), executor)
            .whenComplete((ignored, error) -> {
                if (Failures.unwrapFuture(error) instanceof RejectedExecutionException) {
                    done.completeExceptionally(Failures.unwrapFuture(error));
                }
            });
    }
}
