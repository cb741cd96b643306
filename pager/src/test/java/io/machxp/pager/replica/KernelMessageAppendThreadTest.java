package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.net.ProbeKernel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.junit.jupiter.api.Test;

/**
 * A kernel's XP messages are appended to the leader's Raft log on the thread of the leader's XP
 * server that read them (its one event loop, gRPC's direct executor), as the unreplicated pager
 * handles a message on the thread that read it: no hand-off to a pooled thread between a
 * message's arrival and its append. With gRPC's default executor they were appended on a
 * {@code grpc-default-executor} thread, woken for each burst the loop read. Ratis marks the start
 * of each leader append ({@code RaftServerImpl.appendTransaction}, see {@link LeaderAppendThreadTest}).
 */
class KernelMessageAppendThreadTest {
    private static final String APPEND_TRANSACTION = "RaftServerImpl.appendTransaction";

    @Test
    void aKernelsMessagesAreAppendedOnTheLeadersXpLoop() throws Exception {
        ConcurrentLinkedQueue<String> appendedOn = new ConcurrentLinkedQueue<>();
        try (ReplicaTrio group = new ReplicaTrio(Map.of("obj", 4096L), Duration.ofSeconds(5))) {
            ReplicatedPager leader = group.leader();
            CodeInjectionForTesting.put(APPEND_TRANSACTION, (local, remote, args) -> {
                appendedOn.add(Thread.currentThread().getName());
                return false;
            });
            // A hello, an init, a lock and a keepalive: each is a kernel_message entry (the ticker's
            // ticks append on its own thread, and are told apart by their thread's name).
            try (ProbeKernel k = ProbeKernel.welcomed(leader.address(), "k1")) {
                k.send(ProbeKernel.lock(0));
                k.barrier();
            }
            String loop = ReplicatedPager.xpThreadPrefix("p", leader.id());
            List<String> threads = List.copyOf(appendedOn);
            assertThat(threads).as("the threads the leader's appends started on").anyMatch(t -> t.startsWith(loop));
            assertThat(threads).as("the threads the leader's appends started on")
                    .noneMatch(t -> t.startsWith("grpc-default-executor"));
        } finally {
            CodeInjectionForTesting.remove(APPEND_TRANSACTION);
        }
    }
}
