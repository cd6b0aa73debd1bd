package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.loki.www.infer.RecRequest;
import com.loki.www.infer.RecResponse;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The provider found through a real Nacos, as a Java shop's consumer finds any provider:
 * {@code RegistryConfig("nacos://host:8848")}, no URL, no Python-specific setting. The provider
 * must be registered there beforehand ({@code -Dnacos.url}; tests/java_sample starts both).
 */
@Tag("nacos")
class NacosDiscoveryTest {

    private static RecsysConsumer consumer;

    @BeforeAll
    static void connect() {
        String url = System.getProperty("nacos.url");
        if (url == null || url.isEmpty()) {
            throw new IllegalStateException("no registry address: run with -Dnacos.url=nacos://127.0.0.1:8848");
        }
        consumer = RecsysConsumer.open("recsys-java-test-nacos", url);
    }

    @AfterAll
    static void close() {
        if (consumer != null) {
            consumer.close();
        }
    }

    @Test
    void recommendThroughNacos() {
        RecommendResponse response = consumer.recommendService().recommend(new RecommendRequest("u-nacos", "home", 4));
        assertEquals(200, response.getCode(), response.toString());
        assertEquals(4, response.getItems().size());
    }

    @Test
    void seedServiceThroughNacos() {
        RecRequest request = new RecRequest();
        request.setUserId("u-nacos");
        request.setDataId("home");
        RecResponse response = consumer.inferService().RecommenderInfer(request);
        assertEquals(200L, response.getCode(), response.toString());
        assertFalse(response.getData().isEmpty());
    }
}
