package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A priority inversion through a Mach RPC across kernels, in virtual time on the real kernel cores
 * and scheduler: server S (priority 10) on kernel A serves requests with 50ms of computation; M
 * (50) on A computes for 200ms from 10ms; client H (90) on kernel B makes one RPC to S at 20ms.
 * With donation S runs at 90 while it serves H, so H waits S's 50ms plus the link's round trip;
 * with --no-pi S waits for M's CPU, and H waits for all of M's computation too.
 */
class RpcInversionTest {
    private static final long MS = 1_000_000;
    private static final long LATENCY = 100_000;
    private static final int SERVICE_NAME = 0x700;

    private record Run(long rpcNanos, List<String> serverTrace) {}

    private static <T> T await(SimCluster cluster, Consumer<Reply<T>> call) {
        Object[] box = new Object[1];
        boolean[] done = new boolean[1];
        call.accept(new Reply<T>() {
            @Override
            public void complete(T value) {
                box[0] = value;
                done[0] = true;
            }

            @Override
            public void fail(KernelError e) {
                throw new AssertionError(e.errno() + ": " + e.message());
            }
        });
        while (!done[0] && cluster.step()) {
            // the answer comes as the simulation runs
        }
        assertThat(done[0]).as("answered").isTrue();
        @SuppressWarnings("unchecked")
        T value = (T) box[0];
        return value;
    }

    private static <T> Reply<T> then(Consumer<T> next) {
        return new Reply<>() {
            @Override
            public void complete(T value) {
                next.accept(value);
            }

            @Override
            public void fail(KernelError e) {
                throw new AssertionError(e.errno() + ": " + e.message());
            }
        };
    }

    private static Run run(boolean pi) {
        List<String> trace = new ArrayList<>();
        int[] serverTid = new int[1];
        SimCluster cluster = new SimCluster(new SimCluster.Options(1, LATENCY, 0, 4096), Map.of(),
                (time, kernel, event, tid, detail) -> {
                    if (tid == serverTid[0] && (event.equals("boost") || event.equals("deboost"))) {
                        trace.add(event + " " + detail);
                    }
                });
        CoreOptions options = CoreOptions.DEFAULT.withCpus(1).withPriorityInheritance(pi);
        cluster.addKernel("A", options);
        cluster.addKernel("B", options);
        while (cluster.step()) {
            // sessions open
        }
        SimIpc ipc = new SimIpc(cluster, LATENCY, 0, 1);
        ipc.join("A");
        ipc.join("B");
        KernelCore a = cluster.kernel("A").core;
        KernelCore b = cluster.kernel("B").core;
        long serverTask = await(cluster, (Reply<io.machxp.kernel.task.MachTask> r) -> a.taskCreate("server", r)).id;
        long clientTask = await(cluster, (Reply<io.machxp.kernel.task.MachTask> r) -> b.taskCreate("client", r)).id;
        int s = await(cluster, (Reply<io.machxp.kernel.task.MachThread> r) -> a.threadCreate(serverTask, 10, r)).tid;
        int m = await(cluster, (Reply<io.machxp.kernel.task.MachThread> r) -> a.threadCreate(serverTask, 50, r)).tid;
        int h = await(cluster, (Reply<io.machxp.kernel.task.MachThread> r) -> b.threadCreate(clientTask, 90, r)).tid;
        serverTid[0] = s;
        int service = a.ipcCore().machPortAllocate(serverTask, PortRight.RECEIVE.value).orThrow("allocate");
        assertThat(a.ipcCore().machPortInsertRemote(serverTask, service, MsgType.MAKE_SEND, ipc.id("B"), clientTask,
                SERVICE_NAME)).isEqualTo(KernReturn.KERN_SUCCESS);
        int reply = b.ipcCore().machPortAllocate(clientTask, PortRight.RECEIVE.value).orThrow("allocate");
        long origin = cluster.now();
        // S: receive a request, compute 50ms, reply
        a.ipc().machMsg(serverTask, s, null, Mach.MACH_RCV_MSG, 1 << 16, service, 0, then((MsgReturn req) ->
                a.threadCompute(serverTask, s, 50 * MS, then((Void v) -> a.ipc().machMsg(serverTask, s,
                        MachMessage.to(req.message().remotePort(), MsgType.MOVE_SEND_ONCE, 2), Mach.MACH_SEND_MSG,
                        0, 0, 0, Reply.ignore())))));
        cluster.at(origin + 10 * MS, () -> a.threadCompute(serverTask, m, 200 * MS, Reply.ignore()));
        long[] rpc = new long[2];
        cluster.at(origin + 20 * MS, () -> {
            rpc[0] = cluster.now();
            b.ipc().machMsg(clientTask, h, MachMessage.to(SERVICE_NAME, MsgType.COPY_SEND, 1)
                    .withReply(reply, MsgType.MAKE_SEND_ONCE), Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, 1 << 16,
                    reply, 0, then((MsgReturn r) -> {
                        assertThat(r.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
                        rpc[1] = cluster.now();
                    }));
        });
        cluster.runUntil(origin + 1_000 * MS);
        assertThat(rpc[1]).as("the RPC was answered").isPositive();
        return new Run(rpc[1] - rpc[0], trace);
    }

    @Test
    void withDonationTheRpcWaitsOnlyForTheServersWork() {
        Run r = run(true);
        assertThat(r.rpcNanos()).as("50ms of service plus a round trip and the syscalls")
                .isBetween(50 * MS, 55 * MS);
        assertThat(r.serverTrace()).containsExactly("boost 10 -> 90", "deboost 90 -> 10");
    }

    @Test
    void withoutDonationTheRpcAlsoWaitsForTheMediumThread() {
        Run r = run(false);
        assertThat(r.rpcNanos()).as("M's 200ms (less the 10ms it ran before the request) come first")
                .isGreaterThanOrEqualTo(190 * MS + 50 * MS);
        assertThat(r.serverTrace()).isEmpty();
    }
}
