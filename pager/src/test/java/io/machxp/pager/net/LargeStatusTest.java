package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.admin.PagerAdminGrpc;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerStatusRequest;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What machxp status (and each PagerWatch event) gets of a pager whose kernels hold many futexes:
 * at most {@code PagerStatusSnapshot.MAX_REPLY_BYTES} of futexes and pages, the others counted.
 * Before, every futex was listed: one kernel holding 200,000 futexes (the per-session bound is
 * 262,144; the scale benchmark caches 100,000) made the reply larger than gRPC's default 4 MiB, so
 * every status call and every watch failed RESOURCE_EXHAUSTED at the client.
 */
class LargeStatusTest {
    private static final int FUTEXES = 200_000;
    /**
     * How long the status call may take: a hang's bound only (30 s before). It lists and sorts
     * 200,000 futexes on the pager's core thread and carries 2 MiB, which a starved JVM (load 50 on
     * 2 cores, young GCs of 6 s) stretches to tens of seconds.
     */
    private static final long STATUS_BOUND_SECONDS = 300;
    /**
     * The pager's bounds for a kernel that does not read: the default bytes, and a patience that is
     * a hang's bound only. The probe kernel runs in the pager's JVM: starved (load 50 on 2 cores,
     * young GCs of 6 s), it read none of the 200,000 grants for more than the default 10 s, and the
     * pager ended its session (EAGAIN, "it has read nothing the pager sent for 10 s"); the test then
     * waited out its patience for the next grant and failed as a timeout.
     */
    private static final UnreadLimits UNREAD = new UnreadLimits(Duration.ofMinutes(5), UnreadLimits.DEFAULT.maxBytes());

    /**
     * The pager's status, asked again while it answers UNAVAILABLE because its core did not answer
     * within Pager.ADMIN_ANSWER (5 s): a busy core, which a starved JVM's first snapshot of 200,000
     * futexes makes one (seen at load 140); every ask joins the one snapshot in flight. Other
     * failures, and {@link #STATUS_BOUND_SECONDS} passing, fail the test.
     */
    private static PagerStatusReply status(ManagedChannel channel) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STATUS_BOUND_SECONDS);
        while (true) {
            try {
                return PagerAdminGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                        .pagerStatus(PagerStatusRequest.getDefaultInstance());
            } catch (io.grpc.StatusRuntimeException e) {
                if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE || System.nanoTime() - deadline > 0) {
                    throw e;
                }
            }
        }
    }

    @Test
    void aStatusOfMoreFutexesThanFitListsWhatFitsAndCountsTheRest() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 1L << 20)).withLease(Duration.ZERO)
                .withUnreadLimits(UNREAD));
                ProbeKernel k = ProbeKernel.welcomed(pager.target(), "k")) {
            for (int i = 0; i < FUTEXES; i++) {
                k.send(ProbeKernel.lock(4L * i));
            }
            for (int i = 0; i < FUTEXES; i++) {
                assertThat(k.await(m -> true).hasMemoryObjectFutexGranted()).isTrue();
            }
            ManagedChannel channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
            try {
                PagerStatusReply status = status(channel); // gRPC's default 4 MiB at the client
                assertThat(status.getSerializedSize()).isLessThan(3 << 20);
                assertThat(status.getSessionsList()).singleElement()
                        .satisfies(s -> assertThat(s.getFutexesHeld()).isEqualTo(FUTEXES));
                assertThat(status.getFutexesCount()).isPositive();
                assertThat(status.getFutexesCount() + status.getFutexesOmitted()).isEqualTo(FUTEXES);
                assertThat(status.getFutexes(0).getOffset()).as("listed from the first, by object and offset").isZero();
            } finally {
                channel.shutdownNow();
            }
            assertThat(k.barrier()).isEmpty();
        }
    }
}
