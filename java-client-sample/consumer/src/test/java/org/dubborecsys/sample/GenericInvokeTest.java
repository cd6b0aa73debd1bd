package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.dubbo.rpc.service.GenericService;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code $invoke} through {@link GenericService}: the gateway style of call, with no contract
 * classes on the consumer. The request POJO travels as a map with a {@code "class"} key and the
 * answer comes back as maps, so this test also sees the raw Java types the provider chose for
 * each field (Integer for an int, Long for a long, Double for a double).
 */
@Tag("provider")
class GenericInvokeTest {

    private static RecsysConsumer consumer;

    @BeforeAll
    static void connect() {
        consumer = ProviderUnderTest.consumer("generic");
    }

    @AfterAll
    static void close() {
        consumer.close();
    }

    @Test
    void recommendAsMaps() {
        GenericService service = consumer.genericService(RecommendService.class.getName(), RecommendService.VERSION);
        Map<String, Object> request = new HashMap<>();
        request.put("class", "org.dubborecsys.api.RecommendRequest");
        request.put("userId", "u-generic");
        request.put("scene", "home");
        request.put("count", 3);

        Object result = service.$invoke("recommend",
                new String[] {"org.dubborecsys.api.RecommendRequest"}, new Object[] {request});

        Map<?, ?> response = assertInstanceOf(Map.class, result);
        assertEquals(200, assertInstanceOf(Integer.class, response.get("code")));
        assertInstanceOf(String.class, response.get("message"));
        assertInstanceOf(Boolean.class, response.get("degraded"));
        List<?> items = assertInstanceOf(List.class, response.get("items"));
        assertFalse(items.isEmpty());
        assertTrue(items.size() <= 3, "at most count items: " + items);
        for (Object element : items) {
            Map<?, ?> item = assertInstanceOf(Map.class, element);
            assertInstanceOf(String.class, item.get("itemId"));
            assertInstanceOf(Double.class, item.get("score"));
        }
    }

    @Test
    void seedAnswerCarriesALongCode() {
        GenericService service = consumer.genericService("com.loki.www.infer.DubbogoInferService", null);
        Map<String, Object> request = new HashMap<>();
        request.put("class", "com.loki.www.infer.RecRequest");
        request.put("userId", "u-generic");
        request.put("dataId", "home");

        Object result = service.$invoke("RecommenderInfer",
                new String[] {"com.loki.www.infer.RecRequest"}, new Object[] {request});

        Map<?, ?> response = assertInstanceOf(Map.class, result);
        assertEquals(200L, assertInstanceOf(Long.class, response.get("code")));
        List<?> data = assertInstanceOf(List.class, response.get("data"));
        assertFalse(data.isEmpty());
        data.forEach(element -> assertInstanceOf(String.class, element));
    }
}
