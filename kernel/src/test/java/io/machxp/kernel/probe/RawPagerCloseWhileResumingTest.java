package io.machxp.kernel.probe;

import static io.machxp.kernel.probe.RawPager.OBJECT_SIZE;
import static io.machxp.kernel.probe.RawPager.PAGE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_TERMINATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.XpSendLimits;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel closed while its session is being resumed (xp-spec 4.7: what it sends is kept until
 * the pager takes the resume). Its close waits for the resume: once the pager takes it, the
 * dirty page, the terminate and the end's keepalive go on the resumed stream, and the stream ends
 * once that keepalive is answered (xp-spec 2.6). Before, the close shut the core down at once:
 * the returns were only kept, then dropped with the session, and the resume's stream ended
 * under them, with nothing in the log but "returned its pages".
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // a hang's bound only: a starved JVM (load 50 on 2 cores) takes minutes
class RawPagerCloseWhileResumingTest {
    private static final long TOKEN = 0x5eed_cafeL;
    /** The bytes bound of the session's stream. */
    private static final long BYTES_BOUND = 1 << 20;
    /**
     * Lock_requests for the filler's pages whose data_returns (4 KiB each, 4 a lock_request) pass
     * the window and the bytes bound twice over: sent at once, so that what the kernel keeps for
     * the resume is bounded whatever the load. Before, the test sent 16 more every 10 ms until the
     * resume came: on a starved JVM the kernel took hundreds (575 messages, 2.3 MiB, sent again on
     * the resumed stream ahead of the kept page's return).
     */
    private static final int ROUNDS_PAST_THE_BOUND = (int) (2 * (BYTES_BOUND + RawPager.FLOW_CONTROL_WINDOW)
            / OBJECT_SIZE);
    /**
     * How long a wait on the kernel may take, and the close wait of the test that does not test
     * the close's deadline: a hang's bound only. Before, that test had the default close wait (5 s):
     * on a starved JVM it ran out while the pager still read what the kernel sent again, and the
     * close ended the stream before the kept page's return.
     */
    private static final Duration HANG = Duration.ofMinutes(2);
    private RawPager pager;
    private Kernel kernel;
    private final WatchedLogs logged = new WatchedLogs("io.machxp.kernel.PagerLinks", "io.machxp.kernel.core.KernelCore");

    @AfterEach
    void stop() {
        logged.close();
        if (kernel != null) {
            kernel.close();
        }
        if (pager != null) {
            pager.close();
        }
    }

    private static PagerWelcome.Builder welcome() {
        return PagerWelcome.newBuilder().setKernelId(7).setPageSize(PAGE).setPagerName("raw")
                // long: nothing hangs on the kernel's keepalive timing (a tenth of the lease unconnected
                // is a second resume attempt), which a starved JVM upsets
                .setLeaseMillis(Duration.ofMinutes(10).toMillis())
                .setSessionToken(TOKEN);
    }

    private static int objectId(RawPager.Stream s, String name) {
        return s.received.stream().filter(KernelToPager::hasMemoryObjectInit)
                .filter(m -> m.getMemoryObjectInit().getName().equals(name)).findFirst().orElseThrow()
                .getMemoryObjectInit().getObjectId();
    }

    /** A kernel whose session is being resumed: the stream it stalled on, the resume's, and the written object. */
    private record Resuming(RawPager.Stream old, RawPager.Stream fresh, int keptId) {}

    /**
     * Starts a kernel ({@code closeWait} its close wait) with a page written, and stalls its
     * stream until it resumes the session on a new connection, whose hello the test answers itself.
     */
    private Resuming stallIntoAResume(Duration closeWait) throws Exception {
        pager = new RawPager();
        pager.welcome = welcome().build();
        pager.supplyPrecious = true; // each page asked back comes with its data: 4 KiB a data_return
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address())
                .withXpSend(new XpSendLimits(HANG, BYTES_BOUND)).withCloseWait(closeWait));
        LocalTask t = kernel.taskCreate("t");
        long filler = t.vmMap("filler");
        assertThat(t.vmRead(filler, (int) OBJECT_SIZE)).hasSize((int) OBJECT_SIZE);
        long kept = t.vmMap("kept");
        t.vmWrite(kept + 8, new byte[] {42});
        RawPager.Stream old = pager.stream(0);
        int fillerId = objectId(old, "filler");
        int keptId = objectId(old, "kept");

        // The pager stops reading and asks the filler's pages back past the bound: the kernel
        // counts the stream stalled and resumes on a new connection, which the test answers itself.
        pager.answerHello = false;
        old.stopReading();
        for (int i = 0; i < ROUNDS_PAST_THE_BOUND; i++) {
            old.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                    .setObjectId(fillerId).setOffset(0).setLength(OBJECT_SIZE)
                    .setShouldReturn(ReturnPolicy.RETURN_ALL).setLockValue(VmProt.VM_PROT_NONE)).build());
        }
        await("the kernel's resume on a new stream, once its returns passed the bytes bound").atMost(HANG)
                .pollInterval(Duration.ofMillis(10))
                .until(() -> pager.streams.size() >= 2 && !pager.stream(1).received.isEmpty());
        RawPager.Stream fresh = pager.stream(1);
        assertThat(fresh.received.get(0).getKernelHello().hasResume()).isTrue();
        return new Resuming(old, fresh, keptId);
    }

    /** Closes the kernel on another thread once the log is watched; returns when the close says it waits for the resume. */
    private CompletableFuture<Void> closeWhileResuming() {
        logged.start();
        CompletableFuture<Void> closing = OwnThreads.run("kernel-close", kernel::close);
        await("the close's word that it waits for the resume").atMost(HANG)
                .until(() -> logged.says("its close waits for the resume"));
        return closing;
    }

    @Test
    void aCloseDuringAResumeSendsItsReturnsOnTheResumedStream() throws Exception {
        Resuming r = stallIntoAResume(HANG);
        RawPager.Stream fresh = r.fresh();
        CompletableFuture<Void> closing = closeWhileResuming();
        assertThat(fresh.count(MEMORY_OBJECT_DATA_RETURN)).isZero();

        long pagerRead = r.old().fence() - 1; // the hello is not numbered
        fresh.send(PagerToKernel.newBuilder().setPagerWelcome(welcome().setResumed(true).setReceived(pagerRead))
                .build());
        closing.get(HANG.toSeconds(), TimeUnit.SECONDS);

        List<KernelToPager> keptReturns = fresh.received.stream().filter(KernelToPager::hasMemoryObjectDataReturn)
                .filter(m -> m.getMemoryObjectDataReturn().getObjectId() == r.keptId()).toList();
        assertThat(keptReturns).as("the written page comes back on the resumed stream").singleElement()
                .satisfies(m -> assertThat(m.getMemoryObjectDataReturn().getData().byteAt(8)).isEqualTo((byte) 42));
        List<KernelToPager.RoutineCase> routines = fresh.received.stream().map(KernelToPager::getRoutineCase).toList();
        assertThat(routines).contains(MEMORY_OBJECT_TERMINATE);
        // With a lease the end is in two parts: returns, the keepalive, and once it is answered the terminates.
        assertThat(routines.get(routines.size() - 1)).as("the terminate comes last").isEqualTo(MEMORY_OBJECT_TERMINATE);
        assertThat(routines.lastIndexOf(MEMORY_OBJECT_DATA_RETURN)).as("the end's keepalive after the last return")
                .isLessThan(routines.lastIndexOf(KERNEL_KEEPALIVE));
        assertThat(routines.lastIndexOf(KERNEL_KEEPALIVE)).isLessThan(routines.indexOf(MEMORY_OBJECT_TERMINATE));
        await("the resumed stream's end").atMost(HANG).until(() -> fresh.ended);
        assertThat(logged.events()).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }

    /**
     * The close's wait for the resume ends when the pager takes it, not at its deadline: with a
     * close wait far longer than the test's bound, a close that missed the word would not return
     * in time (it waits on the link's word, with no polling to find the resume taken otherwise).
     */
    @Test
    void aResumeTakenWakesTheCloseThatWaitsForIt() throws Exception {
        Resuming r = stallIntoAResume(Duration.ofMinutes(10));
        CompletableFuture<Void> closing = closeWhileResuming();
        assertThat(closing).as("the close waits while the resume is not taken").isNotDone();

        r.fresh().send(PagerToKernel.newBuilder().setPagerWelcome(welcome().setResumed(true)
                .setReceived(r.old().fence() - 1)).build());
        closing.get(HANG.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.fresh().received.stream().filter(KernelToPager::hasMemoryObjectDataReturn)
                .filter(m -> m.getMemoryObjectDataReturn().getObjectId() == r.keptId()))
                .as("the written page comes back on the resumed stream").hasSize(1);
        await("the resumed stream's end").atMost(HANG).until(() -> r.fresh().ended);
    }

    /**
     * A resume the pager refuses (xp-spec 4.7: ESTALE) ends the close's wait too: the session is
     * no longer being resumed, and the close goes on at once rather than at its deadline.
     */
    @Test
    void aResumeRefusedWakesTheCloseThatWaitsForIt() throws Exception {
        Resuming r = stallIntoAResume(Duration.ofMinutes(10));
        CompletableFuture<Void> closing = closeWhileResuming();
        assertThat(closing).as("the close waits while the resume is not answered").isNotDone();

        r.fresh().refuse("ESTALE", "the pager knows no such session");
        closing.get(HANG.toSeconds(), TimeUnit.SECONDS);
        assertThat(logged.events()).extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.contains("refused to resume its session"));
    }
}
