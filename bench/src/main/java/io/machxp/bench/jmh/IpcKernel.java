package io.machxp.bench.jmh;

import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.kernel.ipc.link.IpcLinks;
import io.machxp.kernel.ipc.link.KernelDirectory;
import io.machxp.kernel.ipc.link.LinkListener;
import io.machxp.proto.link.LinkFrame;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A kernel's IPC core on a core thread of its own, joined to other kernels' by the real Netty
 * links ({@link IpcLinks}) on loopback, with one task (its id the kernel's): the IPC between
 * kernels as the benchmarks measure it, without the rest of a kernel.
 */
final class IpcKernel implements AutoCloseable {
    /** Where a published send right is named in the other kernel's task. */
    static final int PUBLISHED = 0x10000;

    final int id;
    final ExecutorService coreThread;
    final IpcCore core;
    final IpcLinks links;
    final InetSocketAddress address;

    IpcKernel(int id, EventLoopGroup group) throws InterruptedException {
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
        this.links = new IpcLinks(id, 10_000, group, coreThread, new LinkListener() {
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

    /** Two kernels joined to each other. */
    static List<IpcKernel> pair(EventLoopGroup group) throws InterruptedException {
        IpcKernel a = new IpcKernel(1, group);
        IpcKernel b = new IpcKernel(2, group);
        KernelDirectory d = new KernelDirectory(Map.of(1, a.address, 2, b.address));
        a.links.connect(d);
        b.links.connect(d);
        return List.of(a, b);
    }

    <T> T call(Function<IpcCore, T> f) {
        return CompletableFuture.supplyAsync(() -> f.apply(core), coreThread).orTimeout(10, TimeUnit.SECONDS).join();
    }

    int allocate() {
        return call(c -> c.machPortAllocate(id, PortRight.RECEIVE.value).orThrow("mach_port_allocate"));
    }

    /** A send right to {@code port} into {@code other}'s task under PUBLISHED, once it has arrived there. */
    void publish(int port, IpcKernel other) {
        KernReturn kr = call(c -> c.machPortInsertRemote(id, port, MsgType.MAKE_SEND, other.id, other.id, PUBLISHED));
        if (!kr.ok()) {
            throw new IllegalStateException("insert_right across kernels: " + kr);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!other.call(c -> c.machPortType(other.id, PUBLISHED).code().ok())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the send right did not arrive in 10 s");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
    }

    /** mach_msg by thread {@code tid}: the answer when it comes. */
    MsgReturn msg(int tid, MachMessage m, int option, int rcvName) {
        CompletableFuture<MsgReturn> answer = new CompletableFuture<>();
        coreThread.execute(() -> core.machMsg(id, tid, m, option, 1 << 16, rcvName, 0, answer::complete));
        return answer.join();
    }

    /**
     * A server on the core thread, no thread of its own: receives on {@code port} and hands each
     * message to {@code handle}, which may answer it (mach_msg send+receive: the reply, then the
     * next request) by returning the reply, or null to receive the next one only.
     */
    void serve(int tid, int port, Function<MachMessage, MachMessage> handle) {
        Consumer<MsgReturn>[] loop = new Consumer[1];
        loop[0] = r -> {
            if (r.code() != KernReturn.MACH_MSG_SUCCESS) {
                return; // the kernel is closing
            }
            MachMessage reply = handle.apply(r.message());
            int option = reply == null ? Mach.MACH_RCV_MSG : Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG;
            core.machMsg(id, tid, reply, option, 1 << 16, port, 0, loop[0]);
        };
        coreThread.execute(() -> core.machMsg(id, tid, null, Mach.MACH_RCV_MSG, 1 << 16, port, 0, loop[0]));
    }

    @Override
    public void close() {
        links.close();
        coreThread.shutdownNow();
    }
}
