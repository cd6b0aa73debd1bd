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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A scene's pipeline config changed in Nacos while a Java consumer that found the provider
 * through the same Nacos calls it: the change must show in the answers' debug traces within 2 s,
 * and no call may fail. The test publishes the config itself through the Nacos Open API, as an
 * operator's console does.
 *
 * <p>Needs a provider started with {@code --registry nacos://...} and {@code --scenes nacos://...}
 * ({@code -Dnacos.url}), the scene's dataId ({@code -Dscene.data.id}), the Nacos HTTP address
 * ({@code -Dscene.nacos.http}) and a file for the measured numbers ({@code -Dscene.results}).
 * tests/nacos_e2e/test_scene_reload.py starts all of that; the tag keeps it out of other runs.
 */
@Tag("nacos-scenes")
class SceneReloadTest {

    private static final int THREADS = 3;
    private static final long LOAD_MS = 6000;
    private static final long CHANGE_AT_MS = 1500;
    private static final Pattern RECALL_OUT = Pattern.compile("\"out\"\\s*:\\s*(\\d+)");

    private static RecsysConsumer consumer;
    private static RecommendService service;
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private static final Properties results = new Properties();

    @BeforeAll
    static void connect() {
        consumer = RecsysConsumer.open("recsys-java-test-scenes", required("nacos.url"));
        service = consumer.reference(RecommendService.class, RecommendService.VERSION, ref -> ref.setRetries(0));
    }

    @AfterAll
    static void close() throws IOException {
        if (consumer != null) {
            consumer.close();
        }
        String file = System.getProperty("scene.results");
        if (file != null && !file.isEmpty()) {
            try (OutputStream out = Files.newOutputStream(Path.of(file))) {
                results.store(out, "SceneReloadTest measurements");
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

    /** The same seed-style document tests/nacos_e2e/test_scene_reload.py publishes. */
    private static void publish(String version, int recallNum) throws Exception {
        String dataId = required("scene.data.id");
        String content = "{\"dataId\": \"" + dataId + "\", \"group\": \"DEFAULT_GROUP\", \"content\": {\"version\": \""
                + version + "\", \"pipeline_conf\": {\"pipeline\": [\"('recall_sample','recallSample')\", "
                + "\"('dssm_recall','dssmRecall')\"], \"recallNum\": " + recallNum + ", \"preRankingNum\": 10}}}";
        String form = "dataId=" + enc(dataId) + "&group=DEFAULT_GROUP&content=" + enc(content);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + required("scene.nacos.http") + "/nacos/v1/cs/configs"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals("true", response.body().trim(), "publish failed: " + response.statusCode());
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** The scene's recallNum as the debug trace shows it: the recall stage's output size. */
    private static int recallNum(String user) {
        RecommendRequest request = new RecommendRequest(user, required("scene.data.id"), 5);
        request.setDebug(true);
        RecommendResponse response = service.recommend(request);
        Map<String, String> debug = response.getDebugInfo();
        if (response.getCode() != 200 || !"full".equals(response.getPipeline()) || debug == null
                || !debug.containsKey("multi_channel")) {
            throw new IllegalStateException("unexpected answer: " + response);
        }
        Matcher matcher = RECALL_OUT.matcher(debug.get("multi_channel"));
        if (!matcher.find()) {
            throw new IllegalStateException("no recall size in " + debug);
        }
        return Integer.parseInt(matcher.group(1));
    }

    private static void waitFor(int recallNum) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int got = -1;
        while (System.nanoTime() < deadline && (got = recallNum("u-wait")) != recallNum) {
            Thread.sleep(100);
        }
        assertEquals(recallNum, got, "the provider never served recallNum " + recallNum);
    }

    @Test
    void configChangeAppliesUnderLoadWithinTwoSecondsWithoutFailedCalls() throws Exception {
        publish("java-before", 31);
        waitFor(31);
        List<long[]> seen = Collections.synchronizedList(new ArrayList<>());  // {call started, recallNum}
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        long stopAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOAD_MS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int thread = t;
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 20_000 && System.nanoTime() < stopAt; i++) {  // bounded by count and time
                    long start = System.nanoTime();
                    try {
                        seen.add(new long[] {start, recallNum(String.valueOf(1 + (thread * 7 + i) % 900))});
                    } catch (RuntimeException exc) {
                        failures.add(exc.getClass().getSimpleName() + ": " + exc.getMessage());
                    }
                }
            }));
        }
        long published;
        try {
            Thread.sleep(CHANGE_AT_MS);
            publish("java-after", 19);
            published = System.nanoTime();
            for (Future<?> future : futures) {
                future.get(LOAD_MS + 30_000, TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        List<long[]> calls = new ArrayList<>(seen);
        TreeSet<Long> values = new TreeSet<>();
        long lastOld = Long.MIN_VALUE;
        for (long[] call : calls) {
            values.add(call[1]);
            if (call[1] == 31) {
                lastOld = Math.max(lastOld, call[0]);
            }
        }
        long firstNew = Long.MAX_VALUE;
        for (long[] call : calls) {
            if (call[1] == 19 && call[0] > lastOld) {
                firstNew = Math.min(firstNew, call[0]);
            }
        }
        long appliedMillis = Math.max(0, TimeUnit.NANOSECONDS.toMillis(firstNew - published));
        results.setProperty("scene.calls", String.valueOf(calls.size() + failures.size()));
        results.setProperty("scene.failed", String.valueOf(failures.size()));
        results.setProperty("scene.applied_ms", String.valueOf(appliedMillis));
        assertEquals(List.of(), failures.subList(0, Math.min(5, failures.size())),
                failures.size() + " of " + (calls.size() + failures.size()) + " calls failed");
        assertEquals(new TreeSet<>(List.of(19L, 31L)), values, "recallNum values seen");
        assertTrue(appliedMillis < 2000, "the change took " + appliedMillis + " ms");
        final long switchedAt = firstNew;
        long afterSwitch = calls.stream().filter(c -> c[0] >= switchedAt).count();
        assertTrue(afterSwitch > 10 && calls.stream().filter(c -> c[0] >= switchedAt).allMatch(c -> c[1] == 19),
                "calls after the switch: " + afterSwitch);
    }
}
