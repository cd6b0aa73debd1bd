package io.dubborecsys.testnacos;

import io.grpc.ServerBuilder;
import io.grpc.ServerProvider;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A gRPC server provider that binds every {@code ServerBuilder.forPort(port)} server to 127.0.0.1.
 *
 * <p>Why: Nacos's own gRPC ports (9848 SDK, 9849 cluster) can be bound to loopback with
 * {@code -Dnacos.remote.grpc.listen.ip}, but the embedded JRaft server (main port - 1000, 7848) calls
 * {@code ServerBuilder.forPort} and so listens on every interface. The test machine's rule is loopback only;
 * gRPC picks the available provider with the highest priority from {@code META-INF/services}, and this one
 * outranks Netty's (priority 5) while delegating to it.
 */
public final class LoopbackServerProvider extends ServerProvider {

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 9;
    }

    @Override
    protected ServerBuilder<?> builderForPort(int port) {
        return NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }
}
