package org.dubborecsys.sample27;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loki.www.infer.DubbogoInferService;
import com.loki.www.infer.RecRequest;
import com.loki.www.infer.RecResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.rpc.service.EchoService;
import org.apache.dubbo.rpc.service.GenericService;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A Dubbo 2.7.23 consumer, configured the 2.7 way (ReferenceConfig + direct URL, Hessian2 by
 * default, no serialize allowlist), calls the same provider as the 3.3 tests.
 */
@Tag("provider")
class Dubbo27ConsumerTest {

    private static final List<ReferenceConfig<?>> REFERENCES = new ArrayList<>();
    private static ApplicationConfig application;

    private static String url() {
        String url = System.getProperty("provider.url");
        if (url == null || url.isEmpty()) {
            url = System.getenv("PROVIDER_URL");
        }
        if (url == null || url.isEmpty()) {
            throw new IllegalStateException("no provider address: run with -Dprovider.url=dubbo://127.0.0.1:PORT");
        }
        return url;
    }

    private static <T> ReferenceConfig<T> config(String version) {
        ReferenceConfig<T> ref = new ReferenceConfig<>();
        ref.setApplication(application);
        ref.setUrl(url());
        ref.setTimeout(5000);
        if (version != null) {
            ref.setVersion(version);
        }
        REFERENCES.add(ref);
        return ref;
    }

    private static <T> T reference(Class<T> type, String version) {
        ReferenceConfig<T> ref = config(version);
        ref.setInterface(type);
        return ref.get();
    }

    private static GenericService generic(String interfaceName, String version) {
        ReferenceConfig<GenericService> ref = config(version);
        ref.setInterface(interfaceName);
        ref.setGeneric("true");
        return ref.get();
    }

    @BeforeAll
    static void connect() {
        application = new ApplicationConfig("recsys-java-test-dubbo27");
        application.setQosEnable(false);
    }

    @AfterAll
    static void close() {
        REFERENCES.forEach(ReferenceConfig::destroy);
    }

    @Test
    void recommendDecodesIntoTypedPojos() {
        RecommendService service = reference(RecommendService.class, RecommendService.VERSION);
        RecommendResponse response = service.recommend(new RecommendRequest("27", "home", 4));

        assertEquals(200, response.getCode(), response.toString());
        List<RecommendItem> items = response.getItems();
        assertFalse(items.isEmpty());
        assertTrue(items.size() <= 4);
        for (RecommendItem item : items) {
            assertFalse(item.getItemId().isEmpty());
            assertTrue(Double.isFinite(item.getScore()));
        }
    }

    @Test
    void seedServiceAnswersBothSpellings() {
        DubbogoInferService infer = reference(DubbogoInferService.class, null);
        RecRequest request = new RecRequest();
        request.setUserId("27");
        request.setDataId("home");

        RecResponse upper = infer.RecommenderInfer(request);
        RecResponse lower = infer.recommenderInfer(request);

        assertEquals(200L, upper.getCode(), upper.toString());
        assertFalse(upper.getData().isEmpty());
        assertEquals(upper.getData(), lower.getData());
    }

    @Test
    void echoKeepsJavaTypes() {
        EchoService echo = (EchoService) reference(RecommendService.class, RecommendService.VERSION);
        assertEquals("héllo \uD83D\uDE00", echo.$echo("héllo \uD83D\uDE00"));
        assertEquals(42L, assertInstanceOf(Long.class, echo.$echo(42L)));
        RecommendRequest back = assertInstanceOf(RecommendRequest.class, echo.$echo(new RecommendRequest("e", "s", 3)));
        assertEquals("e", back.getUserId());
        assertEquals(3, back.getCount());
    }

    @Test
    void genericInvokeReturnsMaps() {
        GenericService service = generic(RecommendService.class.getName(), RecommendService.VERSION);
        Map<String, Object> request = new HashMap<>();
        request.put("class", "org.dubborecsys.api.RecommendRequest");
        request.put("userId", "27");
        request.put("scene", "home");
        request.put("count", 2);

        Object result = service.$invoke("recommend",
                new String[] {"org.dubborecsys.api.RecommendRequest"}, new Object[] {request});

        Map<?, ?> response = assertInstanceOf(Map.class, result);
        assertEquals(200, response.get("code"));
        assertInstanceOf(List.class, response.get("items"));
    }

    @Test
    void sixteenThreadsGetTheirOwnAnswers() throws Exception {
        EchoService echo = (EchoService) reference(RecommendService.class, RecommendService.VERSION);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Callable<Integer>> callers = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                final int thread = t;
                callers.add(() -> {
                    for (int i = 0; i < 20; i++) {
                        String mine = "caller-" + thread + "-" + i;
                        assertEquals(mine, echo.$echo(mine));
                    }
                    return 20;
                });
            }
            int done = 0;
            for (Future<Integer> future : pool.invokeAll(callers, 60, TimeUnit.SECONDS)) {
                done += future.get();
            }
            assertEquals(16 * 20, done);
        } finally {
            pool.shutdownNow();
        }
    }
}
