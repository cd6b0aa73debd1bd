package org.dubborecsys.sample;

import com.loki.www.infer.DubbogoInferService;
import java.util.function.Consumer;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.service.GenericService;
import org.dubborecsys.api.RecommendService;

/**
 * How a Java shop calls the Python provider with Dubbo 3.3: plain {@link ReferenceConfig}s,
 * nothing Python-specific.
 *
 * <p>The address is either a direct {@code dubbo://host:port} (no registry: the consumer
 * connects straight to the provider) or a registry {@code nacos://host:8848}. Everything else
 * stays at Dubbo's defaults, which is the point: with a direct URL a 3.3 consumer serializes
 * with Hessian2 (the {@code fastjson2,hessian2} preference is a <em>provider</em> setting that
 * reaches consumers only through a registry), and its STRICT serialize check already trusts
 * every class reachable from the interfaces it references.
 *
 * <p>Each instance owns its own Dubbo application (a fresh {@link DubboBootstrap}), so tests
 * can open and close consumers independently. The only non-default setting is
 * {@code qosEnable=false}: QoS would bind port 22222 and two JVMs on one host would collide.
 */
public final class RecsysConsumer implements AutoCloseable {

    /** Default per-call timeout; the provider's own budget is far below it. */
    public static final int TIMEOUT_MS = 5000;

    private final DubboBootstrap bootstrap;
    private final String address;

    private RecsysConsumer(DubboBootstrap bootstrap, String address) {
        this.bootstrap = bootstrap;
        this.address = address;
    }

    /** A consumer application named {@code applicationName} that will call {@code address}. */
    public static RecsysConsumer open(String applicationName, String address) {
        if (address == null || address.isEmpty()) {
            throw new IllegalArgumentException("provider address is empty: pass dubbo://host:port or nacos://host:port");
        }
        if (!address.startsWith("dubbo://") && !address.startsWith("nacos://")) {
            throw new IllegalArgumentException("unsupported provider address " + address
                    + ": expected dubbo://host:port (direct) or nacos://host:port (registry)");
        }
        ApplicationConfig application = new ApplicationConfig(applicationName);
        application.setQosEnable(false);
        DubboBootstrap bootstrap = DubboBootstrap.newInstance().application(application);
        if (address.startsWith("nacos://")) {
            bootstrap.registry(new RegistryConfig(address));
        }
        return new RecsysConsumer(bootstrap, address);
    }

    /** {@code org.dubborecsys.api.RecommendService:1.0.0}. */
    public RecommendService recommendService() {
        return reference(RecommendService.class, RecommendService.VERSION, ref -> { });
    }

    /** The seed system's {@code com.loki.www.infer.DubbogoInferService} (no version). */
    public DubbogoInferService inferService() {
        return reference(DubbogoInferService.class, null, ref -> { });
    }

    /** A generic reference: call any method with POJOs given as maps carrying a {@code "class"} key. */
    public GenericService genericService(String interfaceName, String version) {
        ReferenceConfig<GenericService> ref = new ReferenceConfig<>();
        ref.setInterface(interfaceName);
        ref.setGeneric("true");
        return configure(ref, version, r -> { });
    }

    /** A typed reference with extra settings (retries, timeout, ...) applied by {@code tweak}. */
    public <T> T reference(Class<T> type, String version, Consumer<ReferenceConfig<T>> tweak) {
        ReferenceConfig<T> ref = new ReferenceConfig<>();
        ref.setInterface(type);
        return configure(ref, version, tweak);
    }

    private <T> T configure(ReferenceConfig<T> ref, String version, Consumer<ReferenceConfig<T>> tweak) {
        if (version != null) {
            ref.setVersion(version);
        }
        if (address.startsWith("dubbo://")) {
            ref.setUrl(address);
        } else {
            // The provider registers interface-level records only (as Dubbo 2.7 and dubbo-go do);
            // without this a 3.x consumer first looks for application-level records and waits.
            ref.setParameters(new java.util.HashMap<>(java.util.Map.of("migration.step", "FORCE_INTERFACE")));
        }
        ref.setTimeout(TIMEOUT_MS);
        tweak.accept(ref);
        bootstrap.reference(ref);
        return ref.get();
    }

    /** Closes every connection this consumer opened and destroys its Dubbo application. */
    @Override
    public void close() {
        bootstrap.destroy();
    }
}
