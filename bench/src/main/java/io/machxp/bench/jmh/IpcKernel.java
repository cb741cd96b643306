package io.machxp.bench.jmh;

import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.kernel.ipc.link.LinkedCore;
import io.machxp.kernel.ipc.link.KernelDirectory;
import io.netty.channel.EventLoopGroup;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link LinkedCore} as the benchmarks use it: joined in pairs, a send right published to the
 * other kernel, a server running on the core thread.
 */
final class IpcKernel extends LinkedCore {
    /** Where a published send right is named in the other kernel's task. */
    static final int PUBLISHED = 0x10000;

    IpcKernel(int id, EventLoopGroup group) throws InterruptedException {
        super(id, group, 10_000);
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

}
