package dev.tandem.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The partitioner covers every index exactly once, in grain-aligned ranges, job after job; failures reach the caller. */
class ParallelTest {

    /**
     * Consecutive jobs with different part counts: a worker still leaving one job must not claim
     * a part of the next before it is published (that once ran a part twice and hung the caller).
     */
    @Test
    @Timeout(60)
    void everyIndexExactlyOnceAtEveryThreadCount() {
        int[][] cases = {{1, 1}, {7, 1}, {100, 3}, {768, 16}, {2048, 64}, {5, 64}};
        for (int threads = 1; threads <= 4; threads++) {
          for (Parallel.Schedule schedule : Parallel.Schedule.values()) {
            try (Parallel pool = new Parallel(threads, "test", schedule)) {
                // many consecutive jobs: no stale claims (FIXED waits for every thread, slow on a busy machine: fewer rounds)
                int rounds = schedule == Parallel.Schedule.CLAIMED ? 2000 : 200;
                for (int round = 0; round < rounds; round++) {
                    for (int[] c : cases) {
                        int n = c[0], grain = c[1];
                        AtomicIntegerArray hits = new AtomicIntegerArray(n);
                        final int t = threads;
                        pool.forRange(n, grain, (start, end) -> {
                            assertTrue(start % grain == 0 && start < end && end <= n,
                                    () -> "range [" + start + "," + end + ") n=" + n + " grain=" + grain + " threads=" + t);
                            for (int i = start; i < end; i++) {
                                hits.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, hits.get(i), "index " + i + " n=" + n + " grain=" + grain + " threads=" + threads
                                    + " " + schedule + " round=" + round);
                        }
                    }
                }
            }
          }
        }
    }

    /** FIXED: one range per thread, and the same thread gets the same range in every call. */
    @Test
    @Timeout(60)
    void aFixedScheduleGivesEachThreadTheSameSliceEveryCall() {
        try (Parallel pool = new Parallel(3, "test", Parallel.Schedule.FIXED)) {
            java.util.Map<Integer, Thread> owner = new java.util.concurrent.ConcurrentHashMap<>();
            for (int round = 0; round < 100; round++) {
                java.util.Set<Integer> starts = java.util.concurrent.ConcurrentHashMap.newKeySet();
                pool.forRange(768, 16, (start, end) -> {
                    starts.add(start);
                    Thread first = owner.putIfAbsent(start, Thread.currentThread());
                    assertTrue(first == null || first == Thread.currentThread(),
                            () -> "range at " + start + " ran on " + Thread.currentThread().getName() + ", before on " + first.getName());
                });
                assertEquals(java.util.Set.of(0, 256, 512), starts, "three parts of 256, round " + round);
            }
        }
    }

    @Test
    @Timeout(60)
    void aFailingPartReachesTheCallerAndThePoolStaysUsable() {
        try (Parallel pool = new Parallel(2, "test")) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.forRange(64, 1, (s, e) -> {
                if (s <= 40 && 40 < e) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
            AtomicIntegerArray hits = new AtomicIntegerArray(64);
            pool.forRange(64, 1, (s, e) -> {
                for (int i = s; i < e; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 64; i++) {
                assertEquals(1, hits.get(i), "index " + i + " after a failed job");
            }
        }
    }
}
