package io.machxp.kernel.ipc.link;

import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.proto.link.LinkFrame;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * An IPC core on an event loop of {@code group}, joined to other kernels' by {@link IpcLinks}
 * (listening on loopback), with one task whose id is the kernel's: Mach IPC between kernels
 * without the rest of a kernel, for tests of the links and for benchmarks. {@link #call} and
 * {@link #msg} run on the core thread.
 *
 * <p>As in a kernel ({@code KernelLinks}), the core thread is an event loop and the links' channels
 * are registered on that same loop: a frame the core sends is written by the next task of its own
 * thread, and the frames of a read reach the core without changing threads.
 */
public class LinkedCore implements AutoCloseable {
    public final int id;
    /** The core thread: an event loop of the group given, which carries this kernel's links too. */
    public final EventLoop coreThread;
    public final IpcCore core;
    public final IpcLinks links;
    public final InetSocketAddress address;

    public LinkedCore(int id, EventLoopGroup group, long leaseMillis) throws InterruptedException {
        this.id = id;
        this.coreThread = group.next();
        this.core = new IpcCore((delay, action) -> {
            var f = coreThread.schedule(action, delay, TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        });
        this.links = new IpcLinks(id, leaseMillis, coreThread, coreThread, new LinkListener() {
            @Override
            public void frame(int from, int session, LinkFrame frame) {
                core.linkReceive(from, session, frame);
            }

            @Override
            public void kernelDied(int kernel) {
                core.kernelDied(kernel);
            }

            @Override
            public void revived(int kernel, int session) {
                core.kernelRevived(kernel, session);
            }

            @Override
            public void renewed() {
                core.attachNet(links.forSession());
                core.renewSession();
            }
        });
        core.attachNet(links.forSession());
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

    /** Closes the links (the other kernels see this one die); the loop is the group's, shut down with it. */
    @Override
    public void close() {
        links.close();
    }
}
