package org.dubborecsys.bench;

import com.loki.www.infer.DubbogoInferService;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.dubborecsys.api.RecommendService;

/**
 * A plain Dubbo 3.3 provider of the same two interfaces as the Python provider, with the same
 * answers as its popular-list recommender: the yardstick for the RPC benchmark, and the real
 * Java peer the consumer tests were first checked against.
 *
 * <pre>java -cp ... org.dubborecsys.bench.JavaReferenceProvider [port]</pre>
 *
 * Binds 127.0.0.1 only, registers nowhere, prints {@code listening dubbo://127.0.0.1:PORT}
 * when ready (the same ready line as {@code dubbo-recsys serve}) and stops on SIGTERM.
 * Everything else is Dubbo's default, which is what a Java shop would run.
 */
public final class JavaReferenceProvider {

    private JavaReferenceProvider() {
    }

    public static void main(String[] args) {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 20881;

        ApplicationConfig application = new ApplicationConfig("recsys-java-reference");
        application.setQosEnable(false);

        ProtocolConfig protocol = new ProtocolConfig("dubbo", port);
        protocol.setHost("127.0.0.1");
        protocol.setServer(LoopbackTransporter.NAME);

        ServiceConfig<RecommendService> recommend = new ServiceConfig<>();
        recommend.setInterface(RecommendService.class);
        recommend.setVersion(RecommendService.VERSION);
        recommend.setRef(new PopularRecommendService());

        ServiceConfig<DubbogoInferService> infer = new ServiceConfig<>();
        infer.setInterface(DubbogoInferService.class);
        infer.setRef(new PopularInferService());

        ServiceConfig<RecommendService> failing = new ServiceConfig<>();
        failing.setInterface(RecommendService.class);
        failing.setVersion(RecommendService.VERSION);
        failing.setGroup(FailingRecommendService.GROUP);
        failing.setRef(new FailingRecommendService());

        DubboBootstrap bootstrap = DubboBootstrap.getInstance()
                .application(application)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE))
                .protocol(protocol)
                .service(recommend)
                .service(infer)
                .service(failing)
                .start();

        System.out.println("listening dubbo://127.0.0.1:" + port);
        System.out.flush();
        // Dubbo's own shutdown hook unexports and closes on SIGTERM; await() returns then.
        bootstrap.await();
    }
}
