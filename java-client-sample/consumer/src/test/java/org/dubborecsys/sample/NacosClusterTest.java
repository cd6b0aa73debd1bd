package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Several Python providers registered in one real Nacos, one Java consumer that knows only
 * {@code nacos://...}: it spreads calls over all of them, loses no call while one leaves
 * gracefully (SIGTERM), and recovers once a killed one (SIGKILL) is dropped by Nacos.
 *
 * <p>Needs three running providers ({@code -Dcluster.providers=pid@port,pid@port,pid@port}, in the
 * order the tests use them), the registry ({@code -Dnacos.url}), the Nacos HTTP address and group
 * for the Open API view ({@code -Dcluster.nacos.http}, {@code -Dcluster.nacos.group}), and a file
 * for the measured numbers ({@code -Dcluster.results}). tests/nacos_e2e starts all of that; the tag
 * keeps this class out of every other run.
 *
 * <p>Which provider answered is the port of the invoker Dubbo's cluster chose for the call
 * ({@link AnsweringProviderFilter}), so no provider needs to tell who it is.
 * References here use {@code retries=0}: a failover retry must not hide a failed call.
 */
@Tag("nacos-cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NacosClusterTest {

    private static final int THREADS = 3;
    private static final long PAUSE_MS = 4;
    private static final String RECOMMEND_SERVICE = "providers:org.dubborecsys.api.RecommendService:1.0.0:";

    private static RecsysConsumer consumer;
    private static RecommendService service;
    private static final List<Long> pids = new ArrayList<>();
    private static final List<Integer> ports = new ArrayList<>();
    private static final Properties results = new Properties();

    @BeforeAll
    static void connect() {
        String url = required("nacos.url");
        for (String provider : required("cluster.providers").split(",")) {
            String[] parts = provider.split("@");
            pids.add(Long.parseLong(parts[0]));
            ports.add(Integer.parseInt(parts[1]));
        }
        assertEquals(3, ports.size(), "need three providers: " + ports);
        consumer = RecsysConsumer.open("recsys-java-test-cluster", url);
        service = consumer.reference(RecommendService.class, RecommendService.VERSION, ref -> {
            ref.setRetries(0);
            ref.setFilter(AnsweringProviderFilter.NAME);
        });
    }

    @AfterAll
    static void close() throws IOException {
        if (consumer != null) {
            consumer.close();
        }
        String file = System.getProperty("cluster.results");
        if (file != null && !file.isEmpty()) {
            try (OutputStream out = Files.newOutputStream(Path.of(file))) {
                results.store(out, "NacosClusterTest measurements");
            }
        }
    }

    private static String required(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("missing -D" + name + " (tests/nacos_e2e passes it)");
        }
        return value;
    }

    /** One call; returns the port of the provider that answered. */
    private static int callOnce(String user) {
        RecommendResponse response = service.recommend(new RecommendRequest(user, "home", 3));
        int port = AnsweringProviderFilter.lastPort();
        if (response.getCode() != 200 || response.getItems().size() != 3) {
            throw new IllegalStateException("bad answer from port " + port + ": " + response);
        }
        return port;
    }

    @Test
    @Order(1)
    void spreadsCallsOverEveryProvider() {
        Map<Integer, Integer> answered = new TreeMap<>();
        // The consumer's first view of Nacos may lag the registrations by a push; bounded wait.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (answered.size() < ports.size() && System.nanoTime() < deadline) {
            answered.merge(callOnce("u-warm"), 1, Integer::sum);
        }
        answered.clear();
        int calls = 300;
        for (int i = 0; i < calls; i++) {
            answered.merge(callOnce("u-spread-" + i), 1, Integer::sum);
        }
        results.setProperty("spread.counts", answered.toString());
        assertEquals(new java.util.TreeSet<>(ports), answered.keySet(), "providers that answered: " + answered);
        // Random load balancing, equal weights: each of three gets about 100; 40 is far below any plausible draw.
        answered.forEach((port, count) -> assertTrue(count >= 40, "port " + port + " got only " + count + ": " + answered));
    }

    /** Calls from {@code THREADS} threads until {@code stop} is set or {@code maxSeconds} pass. */
    private static final class Load implements AutoCloseable {
        final LongAdder calls = new LongAdder();
        final Map<Integer, AtomicInteger> byPort = new ConcurrentHashMap<>();
        final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        /** When the latest failed call was <em>started</em> (0 = none failed). */
        final AtomicLong lastFailedStartNanos = new AtomicLong();
        final AtomicLong lastCallNanos = new AtomicLong();
        private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        private final List<Future<?>> futures = new ArrayList<>();
        private volatile boolean stop;

        Load(String label, long maxSeconds) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
            for (int t = 0; t < THREADS; t++) {
                final int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; !stop && System.nanoTime() < deadline; i++) {
                        long start = System.nanoTime();
                        try {
                            int port = callOnce(label + "-" + thread + "-" + i);
                            byPort.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
                        } catch (RuntimeException exc) {
                            lastFailedStartNanos.accumulateAndGet(start, Math::max);
                            if (failures.size() < 1000) {
                                failures.add(exc.getClass().getSimpleName() + ": " + exc.getMessage());
                            }
                        }
                        calls.increment();
                        lastCallNanos.set(System.nanoTime());
                        sleep(PAUSE_MS);
                    }
                }));
            }
        }

        @Override
        public void close() throws Exception {
            stop = true;
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS), "load did not stop");
            for (Future<?> future : futures) {
                future.get();
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException exc) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(exc);
        }
    }

    @Test
    @Order(2)
    void gracefulStopLosesNoCall() throws Exception {
        int leaving = ports.get(0);
        ProcessHandle process = ProcessHandle.of(pids.get(0)).orElseThrow();
        Load load = new Load("u-sigterm", 40);
        long exitMillis;
        try (load) {
            sleep(1500);
            long before = load.calls.sum();
            long signalled = System.nanoTime();
            assertTrue(process.destroy(), "SIGTERM not sent");  // destroy() is SIGTERM on Unix
            process.onExit().get(25, TimeUnit.SECONDS);
            exitMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
            assertTrue(before > 0 && load.calls.sum() > before, "the load was not running");
            sleep(1500);  // and it goes on without the provider that left
        }
        results.setProperty("sigterm.calls", String.valueOf(load.calls.sum()));
        results.setProperty("sigterm.failed", String.valueOf(load.failures.size()));
        results.setProperty("sigterm.exit_ms", String.valueOf(exitMillis));
        results.setProperty("sigterm.counts", new TreeMap<>(load.byPort).toString());
        assertEquals(List.of(), load.failures.subList(0, Math.min(20, load.failures.size())),
                load.failures.size() + " of " + load.calls.sum() + " calls failed");
        assertTrue(load.byPort.containsKey(leaving), "the leaving provider never answered: " + load.byPort);
        for (int i = 0; i < 60; i++) {  // once it is gone, the rest answer every call
            int port = callOnce("u-after-sigterm-" + i);
            assertTrue(port != leaving, "a stopped provider answered");
        }
    }

    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    /** The ports Nacos lists for RecommendService, read through the Open API (what the console shows). */
    private static List<Integer> listedPorts() throws Exception {
        String query = "serviceName=" + URLEncoder.encode(RECOMMEND_SERVICE, StandardCharsets.UTF_8)
                + "&groupName=" + URLEncoder.encode(required("cluster.nacos.group"), StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(
                URI.create("http://" + required("cluster.nacos.http") + "/nacos/v1/ns/instance/list?" + query))
                .timeout(Duration.ofSeconds(3)).build();
        String body = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        List<Integer> found = new ArrayList<>();
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("\"port\"\\s*:\\s*(\\d+)").matcher(body);
        while (matcher.find()) {
            found.add(Integer.parseInt(matcher.group(1)));
        }
        return found;
    }

    @Test
    @Order(3)
    void killedProviderIsDroppedAndCallsRecover() throws Exception {
        int killed = ports.get(1);
        int survivor = ports.get(2);
        assertTrue(listedPorts().contains(killed), "not registered before the kill: " + listedPorts());
        ProcessHandle process = ProcessHandle.of(pids.get(1)).orElseThrow();
        Load load = new Load("u-sigkill", 60);
        long killedAt;
        long droppedAt;
        long survivorCallsAfterDrop;
        try (load) {
            sleep(1000);
            killedAt = System.nanoTime();
            assertTrue(process.destroyForcibly(), "SIGKILL not sent");
            process.onExit().get(10, TimeUnit.SECONDS);
            // Nacos drops an ephemeral instance when its gRPC connection goes; bounded at 30 s.
            long deadline = killedAt + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline && listedPorts().contains(killed)) {
                sleep(50);
            }
            droppedAt = System.nanoTime();
            assertTrue(!listedPorts().contains(killed), "Nacos still lists the killed provider after 30 s");
            long survivorBefore = load.byPort.getOrDefault(survivor, new AtomicInteger()).get();
            // Calls in flight on the killed provider end by the consumer's timeout at the latest;
            // after that, 2 s more of load must show whether calls started after the drop fail.
            long until = Math.max(droppedAt, killedAt + TimeUnit.MILLISECONDS.toNanos(RecsysConsumer.TIMEOUT_MS + 500))
                    + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < until) {
                sleep(50);
            }
            survivorCallsAfterDrop = load.byPort.get(survivor).get() - survivorBefore;
        }
        long droppedMillis = TimeUnit.NANOSECONDS.toMillis(droppedAt - killedAt);
        long lastFailed = load.lastFailedStartNanos.get();
        // When the last call that failed had started, relative to the kill (negative: it was in flight).
        long lastFailedMillis = lastFailed == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(lastFailed - killedAt);
        results.setProperty("sigkill.calls", String.valueOf(load.calls.sum()));
        results.setProperty("sigkill.failed", String.valueOf(load.failures.size()));
        results.setProperty("sigkill.nacos_dropped_ms", String.valueOf(droppedMillis));
        results.setProperty("sigkill.last_failed_call_started_ms", String.valueOf(lastFailedMillis));
        results.setProperty("sigkill.counts", new TreeMap<>(load.byPort).toString());
        if (!load.failures.isEmpty()) {
            results.setProperty("sigkill.first_failure", load.failures.get(0).substring(0, Math.min(300, load.failures.get(0).length())));
        }
        // Recovered: no call started after Nacos dropped the instance failed, and such calls ran.
        assertTrue(lastFailed == 0 || lastFailed < droppedAt,
                "a call started " + (lastFailedMillis - droppedMillis) + " ms after the drop failed: " + load.failures);
        assertTrue(survivorCallsAfterDrop > 50, "too few calls after the drop: " + survivorCallsAfterDrop);
        for (int i = 0; i < 60; i++) {
            assertEquals(survivor, callOnce("u-after-sigkill-" + i), "only the survivor is left");
        }
    }
}
