package org.dubborecsys.sample;

/**
 * Where the provider under test listens: {@code -Dprovider.url=dubbo://host:port}, or the
 * {@code PROVIDER_URL} environment variable. The test run that starts the provider
 * (tests/java_sample) passes it; a missing address fails the tests instead of skipping them,
 * so a broken setup can never pass as green.
 */
final class ProviderUnderTest {

    private ProviderUnderTest() {
    }

    static String url() {
        String url = System.getProperty("provider.url");
        if (url == null || url.isEmpty()) {
            url = System.getenv("PROVIDER_URL");
        }
        if (url == null || url.isEmpty()) {
            throw new IllegalStateException(
                    "no provider address: run with -Dprovider.url=dubbo://127.0.0.1:PORT (or PROVIDER_URL)");
        }
        return url;
    }

    /**
     * A provider that also exports {@code RecommendService} under group {@code failing}, whose
     * every call throws "failure #N": {@code -Dfailing.provider.url}, else the main provider
     * (the Java reference provider exports both).
     */
    static String failingUrl() {
        String url = System.getProperty("failing.provider.url");
        return url == null || url.isEmpty() ? url() : url;
    }

    /** A fresh consumer application for one test class. */
    static RecsysConsumer consumer(String testName) {
        return RecsysConsumer.open("recsys-java-test-" + testName, url());
    }
}
