package org.dubborecsys.generated;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/** Plain ReferenceConfigs onto the provider addresses the test passes as system properties. */
final class Providers {

    private Providers() {
    }

    static String url(String property) {
        String url = System.getProperty(property);
        if (url == null || url.isEmpty()) {
            throw new IllegalStateException("no provider address: run with -D" + property + "=dubbo://HOST:PORT");
        }
        return url;
    }

    static <T> ReferenceConfig<T> reference(Class<T> type, String version, String property) {
        ReferenceConfig<T> reference = new ReferenceConfig<>();
        reference.setInterface(type);
        reference.setVersion(version);
        reference.setUrl(url(property));
        reference.setTimeout(5000);
        return reference;
    }

    static DubboBootstrap start(String name, ReferenceConfig<?>... references) {
        ApplicationConfig application = new ApplicationConfig(name);
        application.setQosEnable(false);
        DubboBootstrap bootstrap = DubboBootstrap.newInstance().application(application);
        for (ReferenceConfig<?> reference : references) {
            bootstrap.reference(reference);
        }
        return bootstrap.start();
    }
}
