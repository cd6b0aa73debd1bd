package org.dubborecsys.generated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loki.www.infer.DubbogoInferService;
import com.loki.www.infer.RecRequest;
import com.loki.www.infer.RecResponse;
import java.util.Collections;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The built-in services through the Java API generated from their Python classes (popularity list). */
@Tag("provider")
class BuiltinServicesTest {

    private static DubboBootstrap bootstrap;
    private static RecommendService recommend;
    private static DubbogoInferService seed;

    @BeforeAll
    static void connect() {
        ReferenceConfig<RecommendService> ours =
                Providers.reference(RecommendService.class, RecommendService.VERSION, "builtin.url");
        ReferenceConfig<DubbogoInferService> theirs = Providers.reference(DubbogoInferService.class, "", "builtin.url");
        bootstrap = Providers.start("generated-builtin-test", ours, theirs);
        recommend = ours.get();
        seed = theirs.get();
    }

    @AfterAll
    static void close() {
        if (bootstrap != null) {
            bootstrap.destroy();
        }
    }

    @Test
    void recommendWithTheDefaultsThePythonFieldsDeclare() {
        RecommendRequest request = new RecommendRequest();
        request.setUserId("u-1");
        request.setScene("home");
        assertEquals(10, request.getCount()); // the Python default, as a Java initializer
        RecommendResponse response = recommend.recommend(request);
        assertEquals(200, response.getCode());
        assertEquals(10, response.getItems().size());
        RecommendItem first = response.getItems().get(0);
        assertTrue(first.getItemId().startsWith("item-"), first.getItemId());
        assertEquals("popular", response.getPipeline());
    }

    @Test
    void recommendThroughTheAllFieldsConstructor() {
        RecommendRequest request = new RecommendRequest(
                "u-2", "home", 3, Collections.singletonList("item-0001"), Collections.emptyMap(),
                Collections.emptyList(), false);
        RecommendResponse response = recommend.recommend(request);
        assertEquals(3, response.getItems().size());
        assertEquals("item-0002", response.getItems().get(0).getItemId()); // item-0001 was exposed
    }

    @Test
    void bothSpellingsOfTheSeedMethod() {
        RecRequest request = new RecRequest();
        request.setUserId("u-3");
        request.setDataId("home");
        RecResponse upper = seed.RecommenderInfer(request);
        assertEquals(200L, upper.getCode());
        assertTrue(upper.getData().get(0).startsWith("item-0001:"), upper.getData().get(0));
        assertEquals(upper.getData(), seed.recommenderInfer(request).getData());
        assertEquals(400L, seed.RecommenderInfer(new RecRequest()).getCode());
    }
}
