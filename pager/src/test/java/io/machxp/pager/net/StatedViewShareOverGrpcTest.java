package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * rv58-review MED-2 over a real pager: a stream's stated view counts to its peer ({@code CallerPeer},
 * here every connection is "loopback"), and a hello past the peer's share of the stated views'
 * bytes is ended RESOURCE_EXHAUSTED with ErrorInfo EAGAIN and a sentence naming the peer and what
 * to do; the peer's share comes back when its kernel leaves. Before, one peer's kernels could state
 * views up to the pager's whole 32 MiB.
 */
class StatedViewShareOverGrpcTest {
    /** A view of two pagers, this one pager 0, of about {@code bytes} serialized (long object names, sent here). */
    private static PagerDirectoryView view(String tag, int bytes) {
        PagerDirectoryView.Builder b = PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0);
        String filler = "x".repeat(4000);
        for (int i = 0, total = 2; total < bytes; i++) {
            String a = tag + "-" + i + "-" + filler + "=0";
            b.addAssignments(a);
            total += 1 + com.google.protobuf.CodedOutputStream.computeStringSizeNoTag(a);
        }
        return b.build();
    }

    private static KernelToPager hello(String name, PagerDirectoryView view) {
        return KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setDirectory(view)).build();
    }

    @Test
    void aHelloPastItsPeersShareIsEndedEagainWithASentence() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(Duration.ZERO));
                ProbeKernel big = new ProbeKernel(pager.target());
                ProbeKernel small = new ProbeKernel(pager.target())) {
            // 3.7 MB: more than a peer's share (an eighth of 7/8 of 32 MiB, 3,670,016 bytes), under gRPC's 4 MiB
            big.send(hello("big", view("big", 3_700_000)));
            assertThat(big.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isPositive();

            small.send(hello("small", PagerDirectoryView.newBuilder().setPagerCount(1).build())); // 2 bytes
            com.google.rpc.Status end = small.end.get(60, TimeUnit.SECONDS);
            assertThat(end.getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value());
            assertThat(ProbeKernel.reason(end)).isEqualTo("EAGAIN");
            assertThat(end.getMessage()).contains("the kernels of peer loopback (one host, all its connections "
                    + "together) state 1 distinct pager directories", "and another of 2 bytes would take them past the "
                    + "peer's share (3670016 bytes", "kernel 'small' stated it", "give that host's kernels one directory, or connect "
                            + "again once its kernels with other directories have left");

            big.close(); // its view goes with its session: the peer's share is free again
            await().atMost(Duration.ofSeconds(60)).until(() -> pager.kernels().isEmpty());
            try (ProbeKernel again = new ProbeKernel(pager.target())) {
                again.send(hello("again", PagerDirectoryView.newBuilder().setPagerCount(1).build()));
                assertThat(again.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isPositive();
            }
        }
    }
}
