package io.machxp.kernel.ipc.link;

import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.proto.link.LinkFrame;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * An IPC core on a core thread of its own, joined to other kernels' by {@link IpcLinks} (listening
 * on loopback), with one task whose id is the kernel's: Mach IPC between kernels without the rest
 * of a kernel, for tests of the links and for benchmarks. {@link #call} and {@link #msg} run on
 * the core thread.
 */
public class LinkedCore implements AutoCloseable {
    public final int id;
    public final ExecutorService coreThread;
    public final IpcCore core;
    public final IpcLinks links;
    public final InetSocketAddress address;

    public LinkedCore(int id, EventLoopGroup group, long leaseMillis) throws InterruptedException {
        this.id = id;
        this.coreThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ipc-core-" + id);
            t.setDaemon(true);
            return t;
        });
        this.core = new IpcCore((delay, action) -> {
            var f = group.schedule(() -> coreThread.execute(action), delay, TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        });
        this.links = new IpcLinks(id, leaseMillis, group, coreThread, new LinkListener() {
            @Override
            public void frame(int from, LinkFrame frame) {
                core.linkReceive(from, frame);
            }

            @Override
            public void kernelDied(int kernel) {
                core.kernelDied(kernel);
            }
        });
        core.attachNet(links);
        call(c -> {
            c.spaceCreate(id);
            return null;
        });
        this.address = links.listen(new InetSocketAddress("127.0.0.1", 0));
    }

    /** Runs {@code f} on the core thread; its result. */
    public <T> T call(Function<IpcCore, T> f) {
        return CompletableFuture.supplyAsync(() -> f.apply(core), coreThread).orTimeout(10, TimeUnit.SECONDS).join();
    }

    /** mach_msg by thread {@code tid} of the task; the answer when it comes. */
    public CompletableFuture<MsgReturn> msg(int tid, MachMessage m, int option, int rcvName) {
        CompletableFuture<MsgReturn> answer = new CompletableFuture<>();
        coreThread.execute(() -> core.machMsg(id, tid, m, option, 1 << 20, rcvName, 0, answer::complete));
        return answer;
    }

    @Override
    public void close() {
        links.close();
        coreThread.shutdownNow();
    }
}
