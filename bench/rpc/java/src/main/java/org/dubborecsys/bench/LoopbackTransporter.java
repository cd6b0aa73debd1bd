package org.dubborecsys.bench;

import java.net.InetSocketAddress;
import org.apache.dubbo.common.URL;
import org.apache.dubbo.remoting.ChannelHandler;
import org.apache.dubbo.remoting.Client;
import org.apache.dubbo.remoting.RemotingException;
import org.apache.dubbo.remoting.RemotingServer;
import org.apache.dubbo.remoting.transport.netty4.NettyClient;
import org.apache.dubbo.remoting.transport.netty4.NettyServer;

/**
 * Dubbo's Netty 4 transport, except that the server listens on 127.0.0.1 only.
 *
 * <p>Why it exists: Dubbo treats every {@code 127.*} bind address as "no address" and then
 * binds {@code 0.0.0.0} (AbstractServer), so no configuration keeps a Java provider on the
 * loopback interface, and this machine's rule is that test servers bind 127.0.0.1 only.
 * Selected with {@code server=loopback}; registered in {@code META-INF/dubbo}. The I/O path is
 * Netty's own, so the benchmark still measures a stock Dubbo provider.
 */
public final class LoopbackTransporter implements org.apache.dubbo.remoting.Transporter {

    public static final String NAME = "loopback";

    @Override
    public RemotingServer bind(URL url, ChannelHandler handler) throws RemotingException {
        return new LoopbackNettyServer(url, handler);
    }

    @Override
    public Client connect(URL url, ChannelHandler handler) throws RemotingException {
        return new NettyClient(url, handler);
    }

    /** Binds the loopback address instead of the wildcard one Dubbo picks for {@code 127.*}. */
    static final class LoopbackNettyServer extends NettyServer {

        LoopbackNettyServer(URL url, ChannelHandler handler) throws RemotingException {
            super(url, handler);
        }

        @Override
        public InetSocketAddress getBindAddress() {
            return new InetSocketAddress("127.0.0.1", super.getBindAddress().getPort());
        }
    }
}
