package org.dubborecsys.bench;

import java.util.concurrent.atomic.AtomicLong;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;

/**
 * Exported under group {@code failing}: every call throws, numbered, so a consumer test can
 * count how many times the provider really ran (a retried call would skip numbers). The Python
 * side's twin is tests/java_sample/failing_provider.py.
 */
final class FailingRecommendService implements RecommendService {

    static final String GROUP = "failing";

    private final AtomicLong calls = new AtomicLong();

    @Override
    public RecommendResponse recommend(RecommendRequest request) {
        throw new RuntimeException("failure #" + calls.incrementAndGet());
    }
}
