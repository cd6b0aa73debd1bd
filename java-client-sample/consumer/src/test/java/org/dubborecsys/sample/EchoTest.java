package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import java.util.Map;
import org.apache.dubbo.rpc.service.EchoService;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code $echo} through {@link EchoService}, the health check every Java consumer has: the
 * value must come back with its Java type intact (a Long stays a Long even when small, a POJO
 * comes back as the same class), which exercises the codec in both directions.
 */
@Tag("provider")
class EchoTest {

    private static RecsysConsumer consumer;
    private static EchoService echo;

    @BeforeAll
    static void connect() {
        consumer = ProviderUnderTest.consumer("echo");
        echo = (EchoService) consumer.recommendService();
    }

    @AfterAll
    static void close() {
        consumer.close();
    }

    @Test
    void stringComesBackIdentical() {
        String text = "héllo, 世界, \uD83D\uDE00 and a long tail " + "x".repeat(2000);
        assertEquals(text, echo.$echo(text));
    }

    @Test
    void longStaysLong() {
        for (long value : new long[] {0L, 42L, -7L, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE}) {
            Object back = echo.$echo(value);
            assertInstanceOf(Long.class, back, "echo of " + value + "L");
            assertEquals(value, back);
        }
    }

    @Test
    void pojoComesBackAsTheSameClass() {
        RecommendRequest request = new RecommendRequest("u-echo", "home", 7);
        request.setExposureList(List.of("a", "b"));
        request.setContext(Map.of("device", "ios"));
        request.setDebug(true);

        Object back = echo.$echo(request);

        RecommendRequest copy = assertInstanceOf(RecommendRequest.class, back);
        assertEquals("u-echo", copy.getUserId());
        assertEquals("home", copy.getScene());
        assertEquals(7, copy.getCount());
        assertEquals(List.of("a", "b"), copy.getExposureList());
        assertEquals(Map.of("device", "ios"), copy.getContext());
        assertEquals(List.of(), copy.getCandidateIds());
        assertEquals(true, copy.isDebug());
    }

    @Test
    void echoWorksOnEveryReference() {
        assertEquals("ping", ((EchoService) consumer.inferService()).$echo("ping"));
        assertEquals("ping", ((EchoService) (RecommendService) consumer.recommendService()).$echo("ping"));
    }
}
