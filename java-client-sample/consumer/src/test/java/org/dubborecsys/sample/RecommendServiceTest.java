package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code RecommendService.recommend} with our own POJOs, decoded into typed Java fields. */
@Tag("provider")
class RecommendServiceTest {

    private static final Set<String> PIPELINES = Set.of("full", "light", "popular");

    private static RecsysConsumer consumer;
    private static RecommendService service;

    @BeforeAll
    static void connect() {
        consumer = ProviderUnderTest.consumer("recommend");
        service = consumer.recommendService();
    }

    @AfterAll
    static void close() {
        consumer.close();
    }

    @Test
    void answersWithTypedItemsBestFirst() {
        RecommendResponse response = service.recommend(new RecommendRequest("1", "home", 5));

        assertEquals(200, response.getCode(), response.toString());
        assertNotNull(response.getMessage());
        assertNotNull(response.getRequestId());
        assertTrue(PIPELINES.contains(response.getPipeline()), response.getPipeline());
        assertEquals(!"full".equals(response.getPipeline()), response.isDegraded());
        assertNull(response.getDebugInfo(), "debugInfo only when asked for");

        List<RecommendItem> items = response.getItems();
        assertFalse(items.isEmpty());
        assertTrue(items.size() <= 5, "at most count items: " + items);
        for (int i = 0; i < items.size(); i++) {
            RecommendItem item = items.get(i);
            assertFalse(item.getItemId().isEmpty(), item.toString());
            assertTrue(Double.isFinite(item.getScore()), item.toString());
            assertFalse(item.getChannel().isEmpty(), item.toString());
            if (i > 0) {
                assertTrue(items.get(i - 1).getScore() >= item.getScore(), "not best first: " + items);
            }
        }
    }

    @Test
    void exposedItemsAreFilteredOut() {
        List<RecommendItem> first = service.recommend(new RecommendRequest("2", "home", 5)).getItems();
        List<String> seen = new ArrayList<>();
        first.forEach(item -> seen.add(item.getItemId()));
        RecommendRequest again = new RecommendRequest("2", "home", 5);
        again.setExposureList(seen);

        RecommendResponse response = service.recommend(again);

        assertEquals(200, response.getCode(), response.toString());
        assertFalse(response.getItems().isEmpty());
        response.getItems().forEach(item -> assertFalse(seen.contains(item.getItemId()), item + " was exposed"));
    }

    @Test
    void badInputIsA4xxCodeNotAnException() {
        RecommendResponse response = service.recommend(new RecommendRequest("3", "home", -1));

        assertTrue(response.getCode() >= 400 && response.getCode() < 500, response.toString());
        assertTrue(response.getItems().isEmpty(), response.toString());
    }

    @Test
    void debugInfoIsAMapOfStringsWhenAskedFor() {
        RecommendRequest request = new RecommendRequest("4", "home", 3);
        request.setDebug(true);

        Map<String, String> debug = service.recommend(request).getDebugInfo();

        assertNotNull(debug);
        assertFalse(debug.isEmpty());
        debug.forEach((stage, document) -> {
            assertFalse(stage.isEmpty());
            assertTrue(document.startsWith("{"), stage + " -> " + document);
        });
    }

    @Test
    void unicodeUserIdIsAccepted() {
        RecommendResponse response = service.recommend(new RecommendRequest("用户-\uD83D\uDE00", "home", 3));
        assertEquals(200, response.getCode(), response.toString());
    }
}
