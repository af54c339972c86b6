package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One model shared by many threads: the same numbers every time, no crash, safe close. */
class ConcurrencyTest {
    private static final int THREADS = 16;
    private static final long RUN_NANOS = TimeUnit.SECONDS.toNanos(3);

    @Test
    @Timeout(60)
    void sixteenThreadsShareOneModelAndAgreeBitForBit() throws Exception {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("trees.kiln"));
                KilnModel linear = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            // Per thread its own batch size (1 row to a few blocks), each with a reference
            // result computed on this thread before the race starts.
            List<Batch> batches = new ArrayList<>();
            List<ScoreResult> expected = new ArrayList<>();
            List<Batch> linearBatches = new ArrayList<>();
            List<ScoreResult> linearExpected = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int rows = 1 + t * 397;
                batches.add(new Fixtures.TreeColumns(rows, t).batch());
                expected.add(m.score(batches.get(t)));
                linearBatches.add(new Fixtures.LinearColumns(rows, 100 + t).batch());
                linearExpected.add(linear.score(linearBatches.get(t)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            AtomicLong calls = new AtomicLong();
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int me = t;
                    futures.add(pool.submit(() -> {
                        start.await();
                        long end = System.nanoTime() + RUN_NANOS;
                        int i = 0;
                        while (System.nanoTime() < end) {
                            // Cross the batches over threads so every thread meets every size.
                            int k = (me + i++) % THREADS;
                            ScoreOptions opts = (i % 5 == 0) ? ScoreOptions.DEFAULT.withThreads(2) : ScoreOptions.DEFAULT;
                            ScoreResult r = m.score(batches.get(k), opts);
                            Fixtures.assertBitsEqual(expected.get(k).outputs(), r.outputs(), "trees batch " + k);
                            ScoreResult l = linear.score(linearBatches.get(k), opts);
                            Fixtures.assertBitsEqual(linearExpected.get(k).outputs(), l.outputs(), "linear batch " + k);
                            assertEquals(linearExpected.get(k).reportJson(), l.reportJson());
                            calls.addAndGet(2);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            }
            assertTrue(calls.get() > THREADS * 2, "only " + calls.get() + " calls ran");
        }
    }

    @Test
    @Timeout(60)
    void closingWhileOtherThreadsScoreIsSafe() throws Exception {
        Batch batch = new Fixtures.TreeColumns(5000, 1).batch();
        for (int round = 0; round < 20; round++) {
            KilnModel m = KilnModel.load(Fixtures.bytes("trees.kiln"));
            double[][] expected = m.score(batch).outputs();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            CountDownLatch started = new CountDownLatch(8);
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(pool.submit(() -> {
                    started.countDown();
                    int ok = 0;
                    for (;;) {
                        ScoreResult r;
                        try {
                            r = m.score(batch);
                        } catch (KilnException e) {
                            assertEquals(KilnStatus.NULL_ARGUMENT, e.status());
                            assertTrue(e.getMessage().contains("closed"), e.getMessage());
                            return ok;
                        }
                        Fixtures.assertBitsEqual(expected, r.outputs(), "before close");
                        ok++;
                    }
                }));
            }
            started.await();
            Thread.sleep(round % 4);
            m.close();
            for (Future<Integer> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }
}
