package io.dubborecsys.registrytest;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.service.GenericService;

import java.util.HashMap;
import java.util.Map;

/**
 * Calls the seed service {@code com.loki.www.infer.DubbogoInferService.RecommenderInfer} once, finding the
 * provider through Dubbo 3's application-level records only: migration step FORCE_APPLICATION, so the
 * interface-level records are never read. Prints {@code RESULT <response>} and exits 0, or
 * {@code FAILED <cause>} and exits 1.
 *
 * <p>Usage: {@code AppLevelConsumer nacos://127.0.0.1:8848 SECONDS}. Run with
 * {@code -Ddubbo.network.interface.ignored=.*} when the provider listens on 127.0.0.1 only: Dubbo
 * otherwise rewrites a loopback provider address to the host's own address before connecting.
 */
public final class AppLevelConsumer {

    private AppLevelConsumer() {
    }

    public static void main(String[] args) throws InterruptedException {
        String registry = args[0];
        int seconds = Integer.parseInt(args[1]);
        ApplicationConfig application = new ApplicationConfig("registry-app-level-consumer");
        application.setQosEnable(false);
        ReferenceConfig<GenericService> reference = new ReferenceConfig<>();
        reference.setInterface("com.loki.www.infer.DubbogoInferService");
        reference.setGeneric("true");
        reference.setParameters(new HashMap<>(Map.of("migration.step", "FORCE_APPLICATION")));
        reference.setTimeout(5000);
        reference.setCheck(false);
        DubboBootstrap bootstrap = DubboBootstrap.getInstance()
                .application(application)
                .registry(new RegistryConfig(registry))
                .reference(reference)
                .start();
        Map<String, Object> request = new HashMap<>();
        request.put("userId", "u-app-level");
        request.put("dataId", "home");
        Object answer = null;
        Exception last = null;
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        // Discovery is asynchronous: retry until the provider's address has arrived or time is up.
        while (answer == null && System.nanoTime() < deadline) {
            try {
                answer = reference.get().$invoke("RecommenderInfer",
                        new String[] {"com.loki.www.infer.RecRequest"}, new Object[] {request});
            } catch (RuntimeException e) {
                last = e;
                Thread.sleep(500);
            }
        }
        System.out.println(answer != null ? "RESULT " + answer : "FAILED " + last);
        bootstrap.stop();
        System.exit(answer != null ? 0 : 1);
    }
}
