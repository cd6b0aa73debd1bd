package org.dubborecsys.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.dubbo.rpc.RpcException;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A provider method that throws must reach Java as that application exception, thrown by the
 * proxy, and must NOT be retried: Dubbo's failover cluster retries only RpcException (transport
 * and protocol failures), and a retried call would run the provider again. The failing service
 * numbers its failures, so consecutive calls must show consecutive numbers even with
 * {@code retries=2}. A protocol error (no such service) is, by contrast, an RpcException.
 */
@Tag("provider")
class ApplicationErrorTest {

    private static final Pattern FAILURE_NUMBER = Pattern.compile("failure #(\\d+)");

    private static RecsysConsumer consumer;
    private static RecommendService failing;

    @BeforeAll
    static void connect() {
        consumer = RecsysConsumer.open("recsys-java-test-errors", ProviderUnderTest.failingUrl());
        failing = consumer.reference(RecommendService.class, RecommendService.VERSION, ref -> {
            ref.setGroup("failing");
            ref.setRetries(2);
        });
    }

    @AfterAll
    static void close() {
        consumer.close();
    }

    private static long failureNumber(RuntimeException error) {
        Matcher m = FAILURE_NUMBER.matcher(String.valueOf(error.getMessage()));
        assertTrue(m.find(), "no failure number in: " + error);
        return Long.parseLong(m.group(1));
    }

    @Test
    void applicationExceptionArrivesOnceAndIsNotRetried() {
        RuntimeException first = assertThrows(RuntimeException.class,
                () -> failing.recommend(new RecommendRequest("u-error", "home", 3)));
        RuntimeException second = assertThrows(RuntimeException.class,
                () -> failing.recommend(new RecommendRequest("u-error", "home", 3)));

        for (RuntimeException error : new RuntimeException[] {first, second}) {
            assertEquals(RuntimeException.class, error.getClass(), "decoded as the class the provider sent");
            assertFalse(error instanceof RpcException, "an application error is not an RpcException");
        }
        assertEquals(failureNumber(first) + 1, failureNumber(second),
                "each consumer call ran the provider exactly once: " + first.getMessage() + " / " + second.getMessage());
    }

    @Test
    void unknownServiceIsAnRpcException() {
        RecommendService missing = consumer.reference(RecommendService.class, RecommendService.VERSION, ref -> {
            ref.setGroup("no-such-group");
            ref.setRetries(0);
        });
        RpcException error = assertThrows(RpcException.class,
                () -> missing.recommend(new RecommendRequest("u-error", "home", 3)));
        assertFalse(error.isBiz(), error.toString());
    }
}
