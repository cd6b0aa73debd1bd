package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.dubbo.rpc.service.EchoService;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 16 threads share one consumer and so one connection; Dubbo multiplexes their calls by
 * request id and the provider may answer out of order. Every answer must reach its own caller:
 * echoes carry a payload unique to the call, and each caller's recommendations must equal the
 * ones it got alone (each caller hides a different item through its exposure list).
 */
@Tag("provider")
class ConcurrentCallsTest {

    private static final int THREADS = 16;
    private static final int CALLS_PER_THREAD = 25;

    private static RecsysConsumer consumer;
    private static RecommendService service;

    @BeforeAll
    static void connect() {
        consumer = ProviderUnderTest.consumer("concurrent");
        service = consumer.recommendService();
    }

    @AfterAll
    static void close() {
        consumer.close();
    }

    private static <T> List<T> runAll(List<Callable<T>> callers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<T>> futures = pool.invokeAll(callers, 60, TimeUnit.SECONDS);
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void echoAnswersReachTheirCallers() throws Exception {
        EchoService echo = (EchoService) service;
        List<Callable<Integer>> callers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int thread = t;
            callers.add(() -> {
                for (int i = 0; i < CALLS_PER_THREAD; i++) {
                    RecommendRequest mine = new RecommendRequest("caller-" + thread + "-call-" + i, "s" + thread, i);
                    RecommendRequest back = (RecommendRequest) echo.$echo(mine);
                    assertEquals(mine.getUserId(), back.getUserId());
                    assertEquals(mine.getScene(), back.getScene());
                    assertEquals(mine.getCount(), back.getCount());
                }
                return CALLS_PER_THREAD;
            });
        }
        assertEquals(THREADS * CALLS_PER_THREAD, runAll(callers).stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void recommendAnswersReachTheirCallers() throws Exception {
        // What each caller gets on its own, one call at a time.
        List<String> popular = itemIds(service.recommend(new RecommendRequest("u-base", "home", THREADS + 4)).getItems());
        assertTrue(popular.size() >= THREADS, "need " + THREADS + " items to hide one per caller: " + popular);
        Map<Integer, RecommendRequest> requests = new HashMap<>();
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int t = 0; t < THREADS; t++) {
            RecommendRequest request = new RecommendRequest("u-concurrent-" + t, "home", THREADS);
            request.setExposureList(List.of(popular.get(t)));
            requests.put(t, request);
            expected.put(t, itemIds(service.recommend(request).getItems()));
            assertTrue(!expected.get(t).contains(popular.get(t)), "exposure not filtered for caller " + t);
        }
        // Otherwise a swapped answer could pass unnoticed.
        assertEquals(THREADS, new java.util.HashSet<>(expected.values()).size(), "answers must differ per caller");

        List<Callable<Integer>> callers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int thread = t;
            callers.add(() -> {
                for (int i = 0; i < CALLS_PER_THREAD; i++) {
                    List<String> got = itemIds(service.recommend(requests.get(thread)).getItems());
                    assertEquals(expected.get(thread), got, "caller " + thread + " call " + i);
                }
                return CALLS_PER_THREAD;
            });
        }
        assertEquals(THREADS * CALLS_PER_THREAD, runAll(callers).stream().mapToInt(Integer::intValue).sum());
    }

    private static List<String> itemIds(List<RecommendItem> items) {
        List<String> ids = new ArrayList<>();
        items.forEach(item -> ids.add(item.getItemId()));
        return ids;
    }
}
