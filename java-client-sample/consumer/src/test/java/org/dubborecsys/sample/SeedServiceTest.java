package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loki.www.infer.DubbogoInferService;
import com.loki.www.infer.RecRequest;
import com.loki.www.infer.RecResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The seed system's contract, as Java code written against the Go service calls it:
 * both method spellings, {@code long} codes, {@code "<itemId>:<score>"} strings best first.
 */
@Tag("provider")
class SeedServiceTest {

    private static RecsysConsumer consumer;
    private static DubbogoInferService infer;

    @BeforeAll
    static void connect() {
        consumer = ProviderUnderTest.consumer("seed");
        infer = consumer.inferService();
    }

    @AfterAll
    static void close() {
        consumer.close();
    }

    private static RecRequest request(String userId, String dataId) {
        RecRequest request = new RecRequest();
        request.setUserId(userId);
        request.setDataId(dataId);
        return request;
    }

    /** Parses {@code "<itemId>:<score>"}; the item id may itself contain colons. */
    private static double score(String entry) {
        int colon = entry.lastIndexOf(':');
        assertTrue(colon > 0 && colon < entry.length() - 1, "not <itemId>:<score>: " + entry);
        return Double.parseDouble(entry.substring(colon + 1));
    }

    @Test
    void bothSpellingsAnswerTheSame() {
        RecResponse upper = infer.RecommenderInfer(request("u-seed", "home"));
        RecResponse lower = infer.recommenderInfer(request("u-seed", "home"));

        assertEquals(200L, upper.getCode(), upper.toString());
        assertFalse(upper.getData().isEmpty());
        assertEquals(upper.getCode(), lower.getCode());
        assertEquals(upper.getData(), lower.getData());
    }

    @Test
    void dataIsBestFirst() {
        List<String> data = infer.RecommenderInfer(request("u-seed", "home")).getData();
        for (int i = 1; i < data.size(); i++) {
            assertTrue(score(data.get(i - 1)) >= score(data.get(i)), "not best first: " + data);
        }
    }

    @Test
    void exposedItemsAreFilteredOut() {
        List<String> first = infer.RecommenderInfer(request("u-seed", "home")).getData();
        List<String> seen = new ArrayList<>();
        for (String entry : first.subList(0, Math.min(3, first.size()))) {
            seen.add(entry.substring(0, entry.lastIndexOf(':')));
        }
        RecRequest again = request("u-seed", "home");
        again.setExposureList(seen);

        RecResponse response = infer.RecommenderInfer(again);

        assertEquals(200L, response.getCode());
        for (String entry : response.getData()) {
            assertFalse(seen.contains(entry.substring(0, entry.lastIndexOf(':'))), entry + " was exposed");
        }
    }

    @Test
    void missingRequiredFieldIsA400NotAnException() {
        RecResponse noUser = infer.RecommenderInfer(request("", "home"));
        assertEquals(400L, noUser.getCode(), noUser.toString());
        RecResponse noData = infer.RecommenderInfer(request("u-seed", ""));
        assertEquals(400L, noData.getCode(), noData.toString());
        assertTrue(noData.getData().isEmpty());
    }
}
