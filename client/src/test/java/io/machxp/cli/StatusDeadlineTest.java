package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.CoreNotAnswering;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.net.PagerAdminService;
import io.machxp.proto.admin.PagerAdminGrpc;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerStatusRequest;
import io.machxp.proto.task.KernelStatisticsReply;
import io.machxp.proto.task.KernelStatisticsRequest;
import io.machxp.proto.task.MachTaskGrpc;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * machxp status against servers that accept the connection and never answer (frontdoor review M3):
 * before, status waited for good (a deadlocked pager made the operator's first diagnostic hang);
 * now each call has a deadline (--timeout, 10 s by default) and status exits 3 with a sentence.
 * A pager whose core does not answer its admin service in time says so itself.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatusDeadlineTest {
    private final List<Server> servers = new CopyOnWriteArrayList<>();
    /** Calls held open, never answered. */
    private final List<StreamObserver<?>> held = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(Server::shutdownNow);
    }

    private String serve(io.grpc.BindableService service) throws Exception {
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
        servers.add(s);
        return "127.0.0.1:" + s.getPort();
    }

    /** A pager that takes PagerStatus and never answers; or answers at once when {@code answers}. */
    private String pager(boolean answers) throws Exception {
        return serve(new PagerAdminGrpc.PagerAdminImplBase() {
            @Override
            public void pagerStatus(PagerStatusRequest request, StreamObserver<PagerStatusReply> out) {
                if (answers) {
                    out.onNext(PagerStatusReply.newBuilder().setPagerName("p").build());
                    out.onCompleted();
                } else {
                    held.add(out);
                }
            }
        });
    }

    @Test
    void aPagerThatNeverAnswersIsGivenUpOnAfterTheDefaultDeadline() throws Exception {
        ExitCodesTest.Run r = ExitCodesTest.run("status", "--pager", pager(false));
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("did not answer within 10 s", "overloaded, stopped or stuck");
    }

    @Test
    void aKernelThatNeverAnswersIsGivenUpOnAfterTimeout() throws Exception {
        String kernel = serve(new MachTaskGrpc.MachTaskImplBase() {
            @Override
            public void kernelStatistics(KernelStatisticsRequest request, StreamObserver<KernelStatisticsReply> out) {
                held.add(out);
            }
        });
        ExitCodesTest.Run r = ExitCodesTest.run("status", "--pager", pager(true), "--kernel", kernel, "--timeout", "300ms");
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains(kernel + " did not answer within 0.3 s");
        assertThat(ExitCodesTest.run("status", "--pager", pager(true), "--timeout", "0").exit()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void aPagerWhoseCoreDoesNotAnswerSaysSo() throws Exception {
        String pager = serve(new PagerAdminService(new PagerStats(), () -> {
            throw new CoreNotAnswering("p", Duration.ofSeconds(5));
        }));
        ExitCodesTest.Run r = ExitCodesTest.run("status", "--pager", pager);
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("the core thread of pager p did not answer within 5000 ms").doesNotContain("cannot reach");
    }
}
