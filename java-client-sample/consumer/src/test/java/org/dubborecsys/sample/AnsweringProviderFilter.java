package org.dubborecsys.sample;

import org.apache.dubbo.rpc.Filter;
import org.apache.dubbo.rpc.Invocation;
import org.apache.dubbo.rpc.Invoker;
import org.apache.dubbo.rpc.Result;
import org.apache.dubbo.rpc.RpcException;

/**
 * Test-only consumer filter: remembers, per calling thread, the port of the provider the
 * cluster chose for the last call. A reference opts in with {@code setFilter(NAME)}; filters
 * named there wrap each provider's invoker, so {@code invoker.getUrl()} is that provider's URL.
 * (Dubbo 3.3 clears {@code RpcContext}'s remote address before the call returns, so the context
 * cannot tell.) Registered in META-INF/dubbo/org.apache.dubbo.rpc.Filter of the test resources.
 */
public final class AnsweringProviderFilter implements Filter {

    public static final String NAME = "answeringProvider";

    private static final ThreadLocal<Integer> LAST_PORT = ThreadLocal.withInitial(() -> -1);

    /** The provider port of this thread's last call (-1 before any). */
    static int lastPort() {
        return LAST_PORT.get();
    }

    @Override
    public Result invoke(Invoker<?> invoker, Invocation invocation) throws RpcException {
        LAST_PORT.set(invoker.getUrl().getPort());
        return invoker.invoke(invocation);
    }
}
