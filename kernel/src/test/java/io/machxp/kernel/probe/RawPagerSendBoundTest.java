package io.machxp.kernel.probe;

import static io.machxp.kernel.probe.RawPager.OBJECT_SIZE;
import static io.machxp.kernel.probe.RawPager.PAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.XpSendLimits;
import io.machxp.kernel.XpTap;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kernel's send bound ({@link XpSendLimits#maxBytes}) holds at every message it hands to its
 * stream, a resume's sending again included: a pager that reads nothing gets at most what its
 * flow-control window takes, gRPC's ready threshold, the bound and one message; the rest waits in
 * the kernel until the pager reads, and then arrives, in order, once. And once the bound stalls a
 * stream, the kernel takes nothing more from it: what it keeps for the resume is what the pager
 * did not read, plus the rest of the one message's answer that passed the bound.
 *
 * <p>Before, the kernel counted nothing it sent again after a resume and handed all of it to gRPC
 * at once (here over 5 MiB against a 1 MiB bound), and went on taking the stalled stream's
 * requests until the stall was handled on its loop, keeping their answers (8 MiB seen). Real
 * kernel, real gRPC on loopback.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // a hang's bound only
class RawPagerSendBoundTest {
    private static final long TOKEN = 0x5eed_b0b0L;
    private static final long BOUND = 1 << 20;
    /** gRPC's ready threshold: a call is ready while less than this waits in its transport. */
    private static final long GRPC_READY_THRESHOLD = 32 << 10;
    /** Lock_requests whose data_returns (4 pages of 4 KiB each) make 4 MiB: the pager reads them all. */
    private static final int ROUNDS_READ = (int) ((4L << 20) / OBJECT_SIZE);
    /** A step of those: its returns, a quarter of the bound, never pass the bound while the pager reads. */
    private static final int ROUNDS_A_STEP = (int) (BOUND / 4 / OBJECT_SIZE);
    /** Lock_requests whose data_returns pass the window and the bound twice over: the stall. */
    private static final int ROUNDS_PAST_THE_BOUND = (int) (2 * (BOUND + RawPager.FLOW_CONTROL_WINDOW) / OBJECT_SIZE);
    /** Long: no keepalive timing plays a part (a sixth of it unanswered would be a stall). */
    private static final long LEASE_MILLIS = Duration.ofMinutes(10).toMillis();
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

    /** What the kernel hands to its streams, as its tap hears it: before and after the resume's hello. */
    private static final class Handed implements XpTap.Listener {
        final AtomicBoolean resumed = new AtomicBoolean();
        final AtomicLong returnsBefore = new AtomicLong();
        final AtomicLong bytesAfter = new AtomicLong();
        final AtomicLong largest = new AtomicLong();

        @Override
        public void sent(int pager, KernelToPager m) {
            largest.accumulateAndGet(m.getSerializedSize(), Math::max);
            if (m.hasKernelHello() && m.getKernelHello().hasResume()) {
                resumed.set(true);
            } else if (resumed.get()) {
                bytesAfter.addAndGet(m.getSerializedSize());
            } else if (m.hasMemoryObjectDataReturn()) {
                returnsBefore.incrementAndGet();
            }
        }

        @Override
        public void received(int pager, PagerToKernel m) {
        }
    }

    private static PagerWelcome.Builder welcome() {
        return PagerWelcome.newBuilder().setKernelId(7).setPageSize(PAGE).setPagerName("raw")
                .setLeaseMillis(LEASE_MILLIS).setSessionToken(TOKEN);
    }

    private void askPagesBack(RawPager.Stream s, int rounds) {
        for (int i = 0; i < rounds; i++) {
            s.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                    .setObjectId(objectId).setOffset(0).setLength(OBJECT_SIZE)
                    .setShouldReturn(ReturnPolicy.RETURN_ALL).setLockValue(VmProt.VM_PROT_NONE)).build());
        }
    }

    /**
     * The pager (as a replicated pager's new leader whose log took none of a burst the old leader
     * read, xp-spec 13.3) takes a resume on a stream it does not read: the kernel must send again
     * over 5 MiB, and hands at most the window, gRPC's threshold, the bound and one message.
     */
    @Test
    void aResumeSendsAgainWithinTheBoundAndTheRestArrivesInOrderOnce() throws Exception {
        pager = new RawPager();
        pager.welcome = welcome().build();
        pager.supplyPrecious = true; // each page comes back with its data: 4 KiB a data_return
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()).withXpSend(new XpSendLimits(HANG, BOUND)));
        kernel.onTrace((event, tid, detail) -> trace.add(event + ": " + detail));
        Handed handed = new Handed();
        kernel.xpTap().listen(handed);
        LocalTask task = kernel.taskCreate("t");
        long base = task.vmMap("obj");
        assertThat(task.vmRead(base, (int) OBJECT_SIZE)).hasSize((int) OBJECT_SIZE);
        RawPager.Stream old = pager.stream(0);
        objectId = old.received.stream().filter(KernelToPager::hasMemoryObjectInit).findFirst().orElseThrow()
                .getMemoryObjectInit().getObjectId();

        // The pager reads 4 MiB of returns (in steps) but answers no keepalive: the kernel keeps them all.
        pager.answerKeepalives = false;
        long readBefore = old.received.size() - 1; // the kernel's messages read before the burst (the hello is not numbered)
        for (int asked = 0; asked < ROUNDS_READ; asked += ROUNDS_A_STEP) { // in steps under the bound: no stall
            askPagesBack(old, ROUNDS_A_STEP);
            long returns = 4L * (asked + ROUNDS_A_STEP);
            await("the pager reads every return of the step").atMost(HANG)
                    .until(() -> old.count(RoutineCase.MEMORY_OBJECT_DATA_RETURN) == returns);
        }

        // It stops reading and asks on: the bound stalls the stream, and the kernel resumes.
        pager.answerHello = false;
        old.stopReading();
        askPagesBack(old, ROUNDS_PAST_THE_BOUND);
        await("the kernel's resume on a new stream").atMost(HANG)
                .until(() -> pager.streams.size() >= 2 && !pager.stream(1).received.isEmpty());
        RawPager.Stream fresh = pager.stream(1);
        fresh.stopReading(); // at most the one read it asked for before this still comes
        KernelHello hello = fresh.received.get(0).getKernelHello();
        assertThat(hello.hasResume()).as("a resume: %s", hello).isTrue();
        assertThat(trace).anyMatch(t -> t.startsWith("pager-stalled") && t.contains("bytes"));
        long tookLockRequests = old.sent.stream().filter(m -> !m.hasPagerWelcome()).limit(hello.getResume().getReceived())
                .filter(PagerToKernel::hasMemoryObjectLockRequest).count();
        assertThat(tookLockRequests).isGreaterThan(ROUNDS_READ);
        assertThat(4 * tookLockRequests - handed.returnsBefore.get())
                .as("returns the kernel kept but did not hand to the stalled stream: the rest of the one "
                        + "lock_request's answer that passed the bound, no more (it took nothing after it)")
                .isLessThanOrEqualTo(4);

        old.fence();
        fresh.send(PagerToKernel.newBuilder().setPagerWelcome(welcome().setResumed(true).setReceived(readBefore))
                .build());
        await("the kernel's resume handled").atMost(HANG).until(() -> trace.stream().anyMatch(t -> t.startsWith("pager-resumed")));
        long handedAfter = handed.bytesAfter.get();
        long readByPager = fresh.received.stream().skip(1).mapToLong(KernelToPager::getSerializedSize).sum();
        long unsent = handedAfter - readByPager - RawPager.FLOW_CONTROL_WINDOW - GRPC_READY_THRESHOLD;
        assertThat(unsent).as("bytes handed to the resumed stream past its window while the pager reads nothing "
                        + "(%d handed; %s)", handedAfter, trace.get(trace.size() - 1))
                .isLessThanOrEqualTo(BOUND + handed.largest.get());

        // The pager reads again: everything after its count arrives once, in order, before a barrier's answer.
        fresh.startReading();
        fresh.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(objectId).setOffset(0).setLength(PAGE).setShouldReturn(ReturnPolicy.RETURN_NONE)
                .setLockValue(VmProt.VM_PROT_NONE).setReply(true)).build());
        await("the barrier's lock_completed on the resumed stream").atMost(HANG)
                .until(() -> fresh.count(RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED) == 1);
        assertThat(fresh.count(RoutineCase.MEMORY_OBJECT_DATA_RETURN))
                .as("every return of every lock_request the kernel took, sent again once").isEqualTo(4 * tookLockRequests);
        List<KernelToPager> readOnOld = old.received.subList(1 + (int) readBefore, old.received.size());
        assertThat(fresh.received.subList(1, 1 + readOnOld.size()))
                .as("sent again in the order it first went").isEqualTo(readOnOld);
        assertThat(pager.streams).as("no second resume").hasSize(2);
    }
}
