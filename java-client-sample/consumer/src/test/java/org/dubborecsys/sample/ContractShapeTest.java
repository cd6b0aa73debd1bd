package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.loki.www.infer.DubbogoInferService;
import com.loki.www.infer.RecRequest;
import com.loki.www.infer.RecResponse;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Java POJOs must match interfaces/recommend.py and interfaces/seed.py field for field:
 * Hessian matches fields by name, and a wrong width (int vs long vs double) decodes silently
 * into the wrong thing. Needs no provider, so the CI step runs it to warm the Maven build.
 */
@Tag("contract")
class ContractShapeTest {

    private static Map<String, String> fields(Class<?> type) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Field f : type.getDeclaredFields()) {
            if (!java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                out.put(f.getName(), f.getGenericType().getTypeName());
            }
        }
        return out;
    }

    @Test
    void recommendRequestMatchesPython() {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("userId", "java.lang.String");
        expected.put("scene", "java.lang.String");
        expected.put("count", "int");
        expected.put("exposureList", "java.util.List<java.lang.String>");
        expected.put("context", "java.util.Map<java.lang.String, java.lang.String>");
        expected.put("candidateIds", "java.util.List<java.lang.String>");
        expected.put("debug", "boolean");
        assertEquals(expected, fields(RecommendRequest.class));
    }

    @Test
    void recommendItemAndResponseMatchPython() {
        Map<String, String> item = new LinkedHashMap<>();
        item.put("itemId", "java.lang.String");
        item.put("score", "double");
        item.put("channel", "java.lang.String");
        assertEquals(item, fields(RecommendItem.class));

        Map<String, String> response = new LinkedHashMap<>();
        response.put("code", "int");
        response.put("message", "java.lang.String");
        response.put("requestId", "java.lang.String");
        response.put("items", "java.util.List<org.dubborecsys.api.RecommendItem>");
        response.put("degraded", "boolean");
        response.put("pipeline", "java.lang.String");
        response.put("debugInfo", "java.util.Map<java.lang.String, java.lang.String>");
        assertEquals(response, fields(RecommendResponse.class));
    }

    @Test
    void seedContractMatchesPython() {
        Map<String, String> request = new LinkedHashMap<>();
        request.put("userId", "java.lang.String");
        request.put("dataId", "java.lang.String");
        request.put("groupId", "java.lang.String");
        request.put("namespaceId", "java.lang.String");
        request.put("exposureList", "java.util.List<java.lang.String>");
        assertEquals(request, fields(RecRequest.class));

        Map<String, String> response = new LinkedHashMap<>();
        response.put("code", "long");
        response.put("message", "java.lang.String");
        response.put("data", "java.util.List<java.lang.String>");
        assertEquals(response, fields(RecResponse.class));
    }

    @Test
    void interfacesDeclareTheWireMethods() throws NoSuchMethodException {
        Method recommend = RecommendService.class.getMethod("recommend", RecommendRequest.class);
        assertEquals(RecommendResponse.class, recommend.getReturnType());
        // Both spellings of the seed method live in one Java interface (names are case-sensitive).
        assertEquals(RecResponse.class,
                DubbogoInferService.class.getMethod("RecommenderInfer", RecRequest.class).getReturnType());
        assertEquals(RecResponse.class,
                DubbogoInferService.class.getMethod("recommenderInfer", RecRequest.class).getReturnType());
        assertEquals(List.of("RecommenderInfer", "recommenderInfer"),
                java.util.Arrays.stream(DubbogoInferService.class.getMethods()).map(Method::getName).sorted().toList());
    }
}
