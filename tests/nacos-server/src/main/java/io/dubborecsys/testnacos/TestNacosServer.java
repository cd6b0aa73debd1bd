package io.dubborecsys.testnacos;

import com.alibaba.nacos.NacosServerBasicApplication;
import com.alibaba.nacos.NacosServerWebApplication;
import com.alibaba.nacos.console.NacosConsole;
import com.alibaba.nacos.core.listener.startup.NacosStartUp;
import com.alibaba.nacos.core.listener.startup.NacosStartUpManager;
import com.alibaba.nacos.sys.env.Constants;
import com.alibaba.nacos.sys.env.DeploymentType;
import com.alibaba.nacos.sys.env.EnvUtil;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts a standalone Nacos 3.x server (embedded Derby) inside this JVM for the test suite.
 *
 * <p>Why a launcher of our own: the official server is distributed as a zip (and a Docker image), not on
 * Maven Central, and no Docker engine runs here. Its modules are republished on Maven Central, so we put them
 * on the classpath and bring up the same three Spring contexts the official bootstrap does: the core context
 * (no web), the server web context (HTTP Open API on {@code nacos.server.main.port}, gRPC on port + 1000) and,
 * when the deployment type is {@code merged}, the console (on {@code nacos.console.port}).
 *
 * <p>Settings come from {@code application.properties} beside this class and can be overridden with
 * {@code -D} system properties ({@code nacos.home}, {@code nacos.server.main.port}, {@code nacos.console.port},
 * {@code nacos.deployment.type}). This is a test fixture: standalone mode only, auth off, never for production.
 */
public final class TestNacosServer {

    private TestNacosServer() {
    }

    public static void main(String[] args) {
        System.setProperty(Constants.STANDALONE_MODE_PROPERTY_NAME, "true");
        String typeName = System.getProperty(Constants.NACOS_DEPLOYMENT_TYPE, Constants.NACOS_DEPLOYMENT_TYPE_SERVER);
        DeploymentType type = DeploymentType.getType(typeName);
        if (type != DeploymentType.SERVER && type != DeploymentType.MERGED) {
            throw new IllegalArgumentException("nacos.deployment.type must be 'server' or 'merged', not " + typeName);
        }
        EnvUtil.setDeploymentType(type);

        NacosStartUpManager.start(NacosStartUp.CORE_START_UP_PHASE);
        ConfigurableApplicationContext core = new SpringApplicationBuilder(NacosServerBasicApplication.class)
                .web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF)
                .run(args);

        NacosStartUpManager.start(NacosStartUp.WEB_START_UP_PHASE);
        new SpringApplicationBuilder(NacosServerWebApplication.class)
                .parent(core)
                .bannerMode(Banner.Mode.OFF)
                .run(args);

        if (type == DeploymentType.MERGED) {
            NacosStartUpManager.start(NacosStartUp.CONSOLE_START_UP_PHASE);
            new SpringApplicationBuilder(NacosConsole.class)
                    .parent(core)
                    .bannerMode(Banner.Mode.OFF)
                    .run(args);
        }
        // The marker line tests/ci/30-nacos.sh does not rely on (it polls the HTTP API), but people read.
        System.out.println("TestNacosServer ready: deployment type " + type.getTypeName());
    }
}
