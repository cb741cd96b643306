package io.machxp.kernel.ipc.link;

import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.PortRight;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture: kernels 1 and 2, each an IPC core on real Netty links ({@link LinkedCore}) on
 * loopback (ephemeral ports), sharing a group of two event loops, each dialling the other; and the
 * waits their tests use, on conditions with a deadline (polled, never spun, never slept).
 * <pre>
 *  new TwoLinkedKernels(lease) -> both listening, both dialled (the links open within a lease)
 *  close()                     -> both cores and links closed, the group shut down
 * </pre>
 */
final class TwoLinkedKernels implements AutoCloseable {
    /** The bound on every wait: generous, the tests run on two loaded cores. */
    static final long WAIT_SECONDS = 40;

    final EventLoopGroup group;
    final LinkedCore k1;
    final LinkedCore k2;

    TwoLinkedKernels(long leaseMillis) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        k1 = new LinkedCore(1, group, leaseMillis);
        k2 = new LinkedCore(2, group, leaseMillis);
        KernelDirectory directory = new KernelDirectory(Map.of(1, k1.address, 2, k2.address));
        k1.links.connect(directory);
        k2.links.connect(directory);
    }

    @Override
    public void close() {
        k1.close();
        k2.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A port with a receive right in {@code k}'s task. */
    static int allocate(LinkedCore k) {
        return k.call(c -> c.machPortAllocate(k.id, PortRight.RECEIVE.value).orThrow("allocate"));
    }

    /** The type bits of {@code name} in {@code k}'s task, 0 if it names nothing. */
    static int type(LinkedCore k, int name) {
        return k.call(c -> c.machPortType(k.id, name).code() == KernReturn.KERN_SUCCESS ? c.machPortType(k.id, name).value() : 0);
    }

    /**
     * Until {@code condition} holds, within {@link #WAIT_SECONDS}. Polled every 10 ms, not spun (a
     * spinning test thread holds the links' lock from their loops).
     */
    static void await(java.util.function.BooleanSupplier condition) {
        org.awaitility.Awaitility.await().atMost(WAIT_SECONDS, TimeUnit.SECONDS)
                .pollInterval(java.time.Duration.ofMillis(10)).until(condition::getAsBoolean);
    }

    /** The answer of {@code f}, within {@link #WAIT_SECONDS}. */
    static MsgReturn get(CompletableFuture<MsgReturn> f) {
        return f.orTimeout(WAIT_SECONDS, TimeUnit.SECONDS).join();
    }
}
