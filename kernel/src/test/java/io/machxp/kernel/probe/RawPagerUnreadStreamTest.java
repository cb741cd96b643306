package io.machxp.kernel.probe;

import static io.machxp.kernel.probe.RawPager.OBJECT_SIZE;
import static io.machxp.kernel.probe.RawPager.PAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.XpSendLimits;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.KernelToPager.RoutineCase;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pager that stops reading its XP stream (gRPC flow control: its window fills, and the kernel's
 * stream is not ready) while it keeps asking the kernel for pages back. The kernel must not buffer
 * for it without bound: after {@link XpSendLimits#patience} of a stream that takes nothing, or more
 * than {@link XpSendLimits#maxBytes} waiting, it counts the stream stalled (xp-spec 4.7): it resumes
 * a resumable session on a new connection, sending again what the pager did not read, and breaks
 * any other stream. Real kernel, real gRPC on loopback; the bounds are set small to keep it fast.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // a hang's bound only: a starved JVM (load 50 on 2 cores) takes minutes
class RawPagerUnreadStreamTest {
    private static final long TOKEN = 0x5eed_cafeL;
    /** Lock_requests whose data_returns fill the pager's flow-control window four times over. */
    private static final int ROUNDS_PAST_THE_WINDOW = 4 * RawPager.FLOW_CONTROL_WINDOW / (int) OBJECT_SIZE;
    /** The bytes bound of the resumable session's stream. */
    private static final long BYTES_BOUND = 1 << 20;
    /**
     * Lock_requests whose data_returns (4 KiB each, 4 a lock_request) pass the window and the bytes
     * bound twice over: sent at once, so that what the kernel keeps for the resume is bounded
     * whatever the load. Before, the test sent 16 more every 10 ms until the resume came; on a
     * starved JVM the kernel took some 500 (8 MiB kept, sent again on the resumed stream), and
     * the resumed stream's barrier took longer than its 10 s.
     */
    private static final int ROUNDS_PAST_THE_BOUND = (int) (2 * (BYTES_BOUND + RawPager.FLOW_CONTROL_WINDOW)
            / OBJECT_SIZE);
    /**
     * The resumable session's lease: long, so that nothing in the test hangs on the kernel's
     * keepalive timing (a sixth of it unanswered is a stall, a tenth of it unconnected a second
     * resume attempt), which a starved JVM upsets; the stall is the bytes bound's, as the test says.
     */
    private static final long LEASE_MILLIS = Duration.ofMinutes(10).toMillis();
    /** How long a wait on the kernel may take: a hang's bound only, never reached when it works. */
    private static final Duration HANG = Duration.ofMinutes(2);
    private RawPager pager;
    private Kernel kernel;
    private int objectId;
    private final List<String> trace = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (kernel != null) {
            kernel.close();
        }
        if (pager != null) {
            pager.close();
        }
    }

    /** A kernel whose task has read the whole object: it holds every page writable. */
    private void start(PagerWelcome welcome, XpSendLimits limits) throws Exception {
        pager = new RawPager();
        pager.welcome = welcome;
        pager.supplyPrecious = true; // each page comes back with its data: 4 KiB a data_return
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()).withXpSend(limits));
        kernel.onTrace((event, tid, detail) -> trace.add(event + ": " + detail));
        LocalTask task = kernel.taskCreate("t");
        long base = task.vmMap("obj");
        assertThat(task.vmRead(base, (int) OBJECT_SIZE)).hasSize((int) OBJECT_SIZE);
        objectId = pager.stream(0).received.stream().filter(KernelToPager::hasMemoryObjectInit).findFirst()
                .orElseThrow().getMemoryObjectInit().getObjectId();
    }

    /** {@code rounds} lock_requests for every page back, kept writable: each costs the kernel 4 data_returns. */
    private void askPagesBack(RawPager.Stream s, int rounds) {
        for (int i = 0; i < rounds; i++) {
            s.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                    .setObjectId(objectId).setOffset(0).setLength(OBJECT_SIZE)
                    .setShouldReturn(ReturnPolicy.RETURN_ALL).setLockValue(VmProt.VM_PROT_NONE)).build());
        }
    }

    private static PagerWelcome.Builder welcome() {
        return PagerWelcome.newBuilder().setKernelId(7).setPageSize(PAGE).setPagerName("raw");
    }

    /**
     * A session with a lease and a token: more than maxBytes waiting is a stall, and the kernel
     * resumes on a new connection (attempt 1, the old stream left open), then sends again exactly
     * what the pager did not read: every data_return of every lock_request it took arrives once.
     * What it sends again (more than the bound: the window's worth and the bound) is not counted
     * again: the resumed stream goes on, no second resume.
     */
    @Test
    void aPagerThatStopsReadingMoreThanTheBytesBoundGetsAResume() throws Exception {
        start(welcome().setLeaseMillis(LEASE_MILLIS).setSessionToken(TOKEN).build(),
                new XpSendLimits(HANG, BYTES_BOUND));
        RawPager.Stream old = pager.stream(0);
        pager.answerHello = false; // the test answers the resume itself
        old.stopReading();

        askPagesBack(old, ROUNDS_PAST_THE_BOUND);
        await("the kernel's resume on a new stream, once its returns passed the bytes bound").atMost(HANG)
                .pollInterval(Duration.ofMillis(10))
                .until(() -> pager.streams.size() >= 2 && !pager.stream(1).received.isEmpty());
        RawPager.Stream fresh = pager.stream(1);
        KernelHello hello = fresh.received.get(0).getKernelHello();
        assertThat(hello.hasResume()).as("the first message on the new stream is a resume: %s", hello).isTrue();
        assertThat(hello.getResume().getKernelId()).isEqualTo(7);
        assertThat(hello.getResume().getSessionToken()).isEqualTo(TOKEN);
        assertThat(hello.getResume().getAttempt()).isEqualTo(1);
        assertThat(old.ended).as("the stalled stream is left open until the pager takes the resume").isFalse();
        assertThat(trace).anyMatch(t -> t.startsWith("pager-stalled") && t.contains("bytes"));

        // The kernel took the first `received` pager messages of the session (numbered from 1 after
        // the welcome, xp-spec 4.7); the lock_requests among them. Counted from what went, not from
        // a count taken earlier: the pager's own answers (ready, the supply, a keepalive's) may
        // still be on their way out, or go, after any moment the test picks.
        List<PagerToKernel> numbered = old.sent.stream().filter(m -> !m.hasPagerWelcome()).toList();
        long took = hello.getResume().getReceived();
        assertThat(took).as("not more than the pager sent").isLessThanOrEqualTo(numbered.size());
        long tookLockRequests = numbered.subList(0, (int) took).stream()
                .filter(PagerToKernel::hasMemoryObjectLockRequest).count();
        assertThat(tookLockRequests).isPositive();
        // Taking the resume fences the old stream: what the pager read of it is fixed here, and
        // what still arrives is dropped, as the count in the welcome says.
        long pagerRead = old.fence() - 1; // the hello is not numbered
        fresh.send(PagerToKernel.newBuilder().setPagerWelcome(welcome().setLeaseMillis(LEASE_MILLIS)
                .setSessionToken(TOKEN).setResumed(true).setReceived(pagerRead)).build());

        // a barrier on the new stream: what the kernel sends again comes before its answer
        fresh.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(objectId).setOffset(0).setLength(PAGE).setShouldReturn(ReturnPolicy.RETURN_NONE)
                .setLockValue(VmProt.VM_PROT_NONE).setReply(true)).build());
        await("the barrier's lock_completed on the resumed stream, after what the kernel sends again").atMost(HANG)
                .until(() -> fresh.count(RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED) == 1);
        long returns = old.count(RoutineCase.MEMORY_OBJECT_DATA_RETURN) // read before the fence
                + fresh.count(RoutineCase.MEMORY_OBJECT_DATA_RETURN);
        assertThat(returns).as("each page of each lock_request the kernel took comes back once, on either stream")
                .isEqualTo(4 * tookLockRequests);
        assertThat(pager.streams).as("no second resume").hasSize(2);
    }

    /**
     * A session without a lease cannot resume: a stream that takes nothing for the patience is
     * broken, which ends that session, and the kernel opens a new one on a new stream.
     */
    @Test
    void aPagerThatReadsNothingForThePatienceLosesTheStream() throws Exception {
        start(welcome().build(), new XpSendLimits(Duration.ofMillis(300), 1L << 40));
        RawPager.Stream old = pager.stream(0);
        old.stopReading();
        askPagesBack(old, ROUNDS_PAST_THE_WINDOW);

        await("the unread stream broken and a hello on a new one").atMost(HANG).until(() -> old.ended
                && pager.streams.size() >= 2 && !pager.stream(1).received.isEmpty());
        KernelHello hello = pager.stream(1).received.get(0).getKernelHello();
        assertThat(hello.getKernelName()).isEqualTo("probe");
        assertThat(hello.hasResume() || hello.hasReclaim()).as("a new session: %s", hello).isFalse();
        assertThat(trace).anyMatch(t -> t.startsWith("pager-lost") && t.contains("has not read what waits"));
    }
}
