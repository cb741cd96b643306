package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.Tick;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.junit.jupiter.api.Test;

/**
 * The leader appends an entry on the thread that sends it (the XP stream's, the ticker's): no
 * hand-off to another thread between a kernel message's arrival and its place in the log
 * ({@link LeaderAppender}). Ratis (3.1.3 and 3.3.0) marks the start of each append
 * ({@code RaftServerImpl.appendTransaction}, a point of its {@link CodeInjectionForTesting});
 * through {@code RaftServer.submitClientRequestAsync} it ran on the division's client executor.
 */
class LeaderAppendThreadTest {
    /** Ratis's name (3.1.3 and 3.3.0) for the start of a leader's append (RaftServerImpl.APPEND_TRANSACTION). */
    private static final String APPEND_TRANSACTION = "RaftServerImpl.appendTransaction";

    @Test
    void anEntryIsAppendedOnTheThreadThatSendsIt() throws Exception {
        ConcurrentLinkedQueue<Thread> appendedOn = new ConcurrentLinkedQueue<>();
        try (ReplicaTrio group = new ReplicaTrio(Map.of("obj", 4096L), Duration.ofSeconds(5))) {
            ReplicatedPager leader = group.leader();
            CodeInjectionForTesting.put(APPEND_TRANSACTION, (local, remote, args) -> {
                appendedOn.add(Thread.currentThread());
                return false;
            });
            boolean appended = leader.append(PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance()))
                    .get(30, TimeUnit.SECONDS);

            assertThat(appended).isTrue();
            assertThat(appendedOn).as("the threads the leader's appends started on").contains(Thread.currentThread());
        } finally {
            CodeInjectionForTesting.remove(APPEND_TRANSACTION);
        }
    }
}
