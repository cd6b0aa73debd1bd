package org.dubborecsys.example.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The same consumer finding the Python provider through Nacos, knowing only the registry
 * ({@code -Dnacos.url=nacos://host:port?group=...}); the guide's last step. Interface-level
 * records, so {@code migration.step=FORCE_INTERFACE} as for any Dubbo 2.7 / dubbo-go provider.
 */
@Tag("nacos")
class CatalogThroughNacosTest {

    @Test
    void getThroughNacos() {
        String registry = System.getProperty("nacos.url");
        if (registry == null || registry.isEmpty()) {
            throw new IllegalStateException("no registry address: run with -Dnacos.url=nacos://127.0.0.1:8848");
        }
        ApplicationConfig application = new ApplicationConfig("catalog-example-nacos-test");
        application.setQosEnable(false);
        ReferenceConfig<CatalogService> reference = new ReferenceConfig<>();
        reference.setInterface(CatalogService.class);
        reference.setVersion(CatalogService.VERSION);
        reference.setParameters(new HashMap<>(Map.of("migration.step", "FORCE_INTERFACE")));
        reference.setTimeout(5000);
        DubboBootstrap bootstrap = DubboBootstrap.newInstance()
                .application(application)
                .registry(new RegistryConfig(registry))
                .reference(reference)
                .start();
        try {
            assertEquals("Dune", reference.get().get(1L).getName());
        } finally {
            bootstrap.destroy();
        }
    }
}
