package io.machxp.pager.net;

import static io.machxp.pager.net.ProbeKernel.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectSynchronize;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Probes of the pager by a kernel written from xp.proto and xp-spec alone, sending what a buggy or
 * hostile kernel might: each checks what the spec says must happen, and that another, well-behaved
 * kernel is served correctly afterwards. Without a lease (ended sessions are forgotten at once).
 */
class OutsideKernelProbeTest {
    private static final long SIZE = 16 * 4096;
    private Pager pager;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", SIZE)).withLease(Duration.ZERO));
    }

    @AfterEach
    void stop() {
        pager.close();
    }

    /** A second kernel gets the futex at 0 and then gives it back: the pager still serves. */
    private void anotherKernelIsServed(String name) throws Exception {
        try (ProbeKernel good = ProbeKernel.welcomed(pager.target(), name)) {
            good.send(ProbeKernel.lock(8));
            PagerToKernel g = good.await(PagerToKernel::hasMemoryObjectFutexGranted);
            good.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(1).setOffset(8).setFencingToken(g.getMemoryObjectFutexGranted().getFencingToken()))
                    .build());
            good.barrier();
            assertThat(pager.holderOf("obj", 8)).isNull();
        }
    }

    @Test
    void synchronizeOfARangeOutsideTheObjectIsAnsweredWithAnError() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "probe")) {
            long[][] ranges = {{-4096L, 4096}, {SIZE, 4096}, {0, 0}, {4096, -4096L}, {-8192L, 16384},
                    {1, 4096}, {0, SIZE + 4096}};
            for (long[] r : ranges) {
                k.send(KernelToPager.newBuilder().setMemoryObjectSynchronize(MemoryObjectSynchronize.newBuilder()
                        .setObjectId(1).setOffset(r[0]).setLength(r[1])).build());
                PagerToKernel c = k.await(PagerToKernel::hasMemoryObjectSynchronizeCompleted);
                assertThat(c.getMemoryObjectSynchronizeCompleted().getError())
                        .as("synchronize of 0x%x+0x%x", r[0], r[1]).contains("not whole pages inside");
            }
            k.send(KernelToPager.newBuilder().setMemoryObjectSynchronize(MemoryObjectSynchronize.newBuilder()
                    .setObjectId(1).setOffset(0).setLength(SIZE)).build());
            assertThat(k.await(PagerToKernel::hasMemoryObjectSynchronizeCompleted)
                    .getMemoryObjectSynchronizeCompleted().getError()).isEmpty();
        }
        anotherKernelIsServed("good");
    }

    @Test
    void pageRequestsWithNonsenseRangesAreAnsweredWithDataError() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "probe")) {
            long[][] ranges = {{-4096L, 4096}, {SIZE, 4096}, {0, 0}, {4096, -4096L}, {-8192L, 16384},
                    {1, 4096}, {0, SIZE + 4096}, {Long.MAX_VALUE - 4095, 8192}};
            for (long[] r : ranges) {
                k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                        .setObjectId(1).setOffset(r[0]).setLength(r[1]).setDesiredAccess(VmProt.VM_PROT_READ))
                        .build());
                assertThat(k.await(m -> !m.hasPagerKeepalive()).hasMemoryObjectDataError())
                        .as("data_request 0x%x+0x%x", r[0], r[1]).isTrue();
                k.send(KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder()
                        .setObjectId(1).setOffset(r[0]).setLength(r[1]).setDesiredAccess(VmProt.VM_PROT_WRITE))
                        .build());
                assertThat(k.await(m -> !m.hasPagerKeepalive()).hasMemoryObjectDataError())
                        .as("data_unlock 0x%x+0x%x", r[0], r[1]).isTrue();
            }
            k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(7).setOffset(0).setLength(4096)).build());
            assertThat(k.await(m -> true).hasMemoryObjectDataError()).as("an object id never initialized").isTrue();
            // data_return of pages not held, and of the wrong size: dropped, nothing answers.
            k.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(0).setDirty(true).setData(com.google.protobuf.ByteString.copyFrom(
                            new byte[4096]))).build());
            k.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(-4096L).setDirty(true).setData(com.google.protobuf.ByteString.copyFrom(
                            new byte[7]))).build());
            assertThat(k.barrier()).isEmpty();
            assertThat(pager.kernels()).contains("probe");
        }
        anotherKernelIsServed("good");
    }

    @Test
    void futexMessagesForFutexesNeverGrantedAreDroppedAndTheFutexStaysUsable() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "probe")) {
            k.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(1).setOffset(8).setFencingToken(1).setRequestAgain(true)).build());
            k.send(KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                    .setObjectId(1).setOffset(8).setFencingToken(1)).build());
            k.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(1).setOffset(8).setUpdate(true).setPriority(9)).build());
            for (long bad : new long[] {2, -4L, SIZE, Long.MIN_VALUE}) {
                k.send(ProbeKernel.lock(bad));
            }
            k.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(99).setOffset(0)).build());
            assertThat(k.barrier()).isEmpty();
            assertThat(pager.holderOf("obj", 8)).isNull();
        }
        anotherKernelIsServed("good");
    }

    /**
     * A probe with hops at the top of its uint32 range is beyond the bound of 1,024 hops (spec
     * 8.9): dropped, not passed on with hops wrapped round to 0.
     */
    @Test
    void aProbeWithHopsBeyondTheSessionsIsDroppedEvenAtTheTopOfItsRange() throws Exception {
        try (ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder");
                ProbeKernel prober = ProbeKernel.welcomed(pager.target(), "prober")) {
            holder.send(ProbeKernel.lock(8));
            holder.await(PagerToKernel::hasMemoryObjectFutexGranted);
            prober.send(ProbeKernel.lock(8)); // a kernel probes for a futex it waits for (8.9, O3-5)
            holder.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            for (int hops : new int[] {-1, Integer.MIN_VALUE, 1025}) {
                prober.send(KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                        .setObjectId(1).setOffset(8).setInitiator(5).setWait(1).setHops(hops)).build());
            }
            prober.send(KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                    .setObjectId(1).setOffset(8).setInitiator(5).setWait(2).setHops(1)).build());
            prober.barrier();
            List<PagerToKernel> atHolder = holder.barrier();
            assertThat(atHolder).as("only the probe within bounds is passed on").hasSize(1);
            assertThat(atHolder.get(0).getMemoryObjectFutexProbe().getWait()).isEqualTo(2);
            assertThat(atHolder.get(0).getMemoryObjectFutexProbe().getHops()).isEqualTo(2);
        }
    }

    /**
     * A kernel keeps one data_request / data_unlock outstanding per page (xp.proto); one that sends
     * more while the first waits behind another kernel must not make the pager queue them without
     * bound: the duplicates are dropped, and the first request's answer is the only one.
     */
    @Test
    void duplicatePageRequestsWhileOneIsOutstandingAreNotQueued() throws Exception {
        try (ProbeKernel writer = ProbeKernel.welcomed(pager.target(), "writer");
                ProbeKernel flood = ProbeKernel.welcomed(pager.target(), "flood")) {
            writer.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ_WRITE))
                    .build());
            writer.await(m -> m.hasMemoryObjectDataUnavailable() || m.hasMemoryObjectDataSupply());
            KernelToPager read = KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest
                    .newBuilder().setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ))
                    .build();
            KernelToPager unlock = KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock
                    .newBuilder().setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(VmProt.VM_PROT_WRITE))
                    .build();
            flood.send(read);
            // The writer is asked to downgrade and does not answer yet: the request waits.
            PagerToKernel downgrade = writer.await(PagerToKernel::hasMemoryObjectLockRequest);
            for (int i = 0; i < 1000; i++) {
                flood.send(read);
            }
            assertThat(flood.barrier()).as("nothing answered while the writer holds the page").isEmpty();
            writer.send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(io.machxp.proto.xp
                    .MemoryObjectLockCompleted.newBuilder().setObjectId(1).setOffset(0).setLength(4096)).build());
            assertThat(downgrade.getMemoryObjectLockRequest().getReply()).isTrue();
            writer.barrier();
            List<PagerToKernel> answers = flood.barrier();
            assertThat(answers).as("one answer, to the one request outstanding").hasSize(1);
            assertThat(answers.get(0).hasMemoryObjectDataUnavailable() || answers.get(0).hasMemoryObjectDataSupply())
                    .isTrue();
            // Answered, it is no longer outstanding: a next request is served (as a reader's: again).
            flood.send(read);
            PagerToKernel again = flood.await(m -> !m.hasPagerKeepalive());
            assertThat(again.hasMemoryObjectDataSupply() || again.hasMemoryObjectDataUnavailable()).as("%s", again)
                    .isTrue();
            // A data_unlock is a request too: while one waits (the writer is asked to flush), others
            // for the page are dropped.
            flood.send(unlock);
            writer.await(PagerToKernel::hasMemoryObjectLockRequest);
            for (int i = 0; i < 100; i++) {
                flood.send(i % 2 == 0 ? read : unlock);
            }
            assertThat(flood.barrier()).isEmpty();
            writer.send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(io.machxp.proto.xp
                    .MemoryObjectLockCompleted.newBuilder().setObjectId(1).setOffset(0).setLength(4096)).build());
            writer.barrier();
            List<PagerToKernel> unlocked = flood.barrier();
            assertThat(unlocked).as("the unlock's answer alone").hasSize(1);
            assertThat(unlocked.get(0).getMemoryObjectLockRequest().getLockValue()).isEqualTo(VmProt.VM_PROT_NONE);
        }
        anotherKernelIsServed("good");
    }

    /**
     * A lock_completed of a range (from a kernel that named "lock_ranges") that nobody asked for
     * is one refusal, not one per page: a kernel must not make the pager's core walk and log every
     * page of a large object for each 20-byte message (a stall for every other kernel).
     */
    @Test
    void aLockCompletedOfAWholeLargeObjectNobodyAskedForIsOneRefusal() throws Exception {
        long size = 256L << 20;
        try (Pager big = Pager.start(PagerConfig.loopback(Map.of("obj", size)).withLease(Duration.ZERO));
                ProbeKernel k = new ProbeKernel(big.target())) {
            k.send(ProbeKernel.hello("ranges").setKernelHello(ProbeKernel.hello("ranges").getKernelHello().toBuilder()
                    .addFeatures("lock_ranges")).build());
            k.await(PagerToKernel::hasPagerWelcome);
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                    .setObjectId(1).setName("obj").setPageSize(4096)).build());
            k.await(PagerToKernel::hasMemoryObjectReady);
            long before = big.stats().refused();
            for (long length : new long[] {size, size + 4096, -4096L, 8192}) {
                k.send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(io.machxp.proto.xp
                        .MemoryObjectLockCompleted.newBuilder().setObjectId(1).setOffset(0).setLength(length)).build());
            }
            assertThat(k.barrier()).isEmpty();
            assertThat(big.stats().refused() - before).as("one refusal per message").isEqualTo(4);
            assertThat(big.kernels()).contains("ranges");

            // The pages of such a range that do wait for the kernel's lock_completed still go on.
            k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(0).setLength(4 * 4096).setDesiredAccess(VmProt.VM_PROT_READ_WRITE))
                    .build());
            k.barrier();
            try (ProbeKernel reader = ProbeKernel.welcomed(big.target(), "reader")) {
                reader.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                        .setObjectId(1).setOffset(0).setLength(4 * 4096).setDesiredAccess(VmProt.VM_PROT_READ))
                        .build());
                k.await(PagerToKernel::hasMemoryObjectLockRequest);
                k.send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(io.machxp.proto.xp
                        .MemoryObjectLockCompleted.newBuilder().setObjectId(1).setOffset(0).setLength(size)).build());
                k.barrier();
                List<PagerToKernel> answers = reader.barrier();
                assertThat(answers).as("a read-only copy of each of the 4 pages").hasSize(4)
                        .allMatch(m -> m.hasMemoryObjectDataUnavailable() || m.hasMemoryObjectDataSupply());
            }
        }
    }

    /** Hellos the pager must end (spec 2.2, 2.3, 3.3, 9): each with its code, errno and a sentence. */
    @Test
    void badHellosEndTheStreamWithTheSpecsStatus() throws Exception {
        Object[][] cases = {
            {ProbeKernel.hello("x".repeat(65)).build(), io.grpc.Status.Code.INVALID_ARGUMENT, "EINVAL"},
            {ProbeKernel.hello("two words").build(), io.grpc.Status.Code.INVALID_ARGUMENT, "EINVAL"},
            {ProbeKernel.hello("").build(), io.grpc.Status.Code.INVALID_ARGUMENT, "EINVAL"},
            {ProbeKernel.hello("caf\u00e9").build(), io.grpc.Status.Code.INVALID_ARGUMENT, "EINVAL"},
            {ProbeKernel.hello("v").setKernelHello(ProbeKernel.hello("v").getKernelHello().toBuilder()
                    .setProtocolVersion(-1)).build(), io.grpc.Status.Code.UNIMPLEMENTED, "EPROTONOSUPPORT"},
            {ProbeKernel.hello("r").setKernelHello(ProbeKernel.hello("r").getKernelHello().toBuilder()
                    .setReclaim(io.machxp.proto.xp.Reclaim.newBuilder().setKernelId(5))).build(),
                    io.grpc.Status.Code.FAILED_PRECONDITION, "ESTALE"},
            {ProbeKernel.hello("q").setKernelHello(ProbeKernel.hello("q").getKernelHello().toBuilder()
                    .setResume(io.machxp.proto.xp.Resume.newBuilder().setKernelId(1).setSessionToken(42)
                            .setAttempt(1))).build(), io.grpc.Status.Code.FAILED_PRECONDITION, "ESTALE"},
        };
        for (Object[] c : cases) {
            try (ProbeKernel k = new ProbeKernel(pager.target())) {
                k.send((KernelToPager) c[0]);
                com.google.rpc.Status end = k.end.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(end.getCode()).as("%s", c[0]).isEqualTo(((io.grpc.Status.Code) c[1]).value());
                assertThat(reason(end)).as("%s", c[0]).isEqualTo(c[2]);
                assertThat(end.getMessage()).as("a sentence").hasSizeGreaterThan(20);
            }
        }
        try (ProbeKernel first = ProbeKernel.welcomed(pager.target(), "same");
                ProbeKernel twin = new ProbeKernel(pager.target())) {
            twin.send(ProbeKernel.hello("same").build());
            com.google.rpc.Status end = twin.end.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(reason(end)).isEqualTo("EEXIST");
            assertThat(first.barrier()).isEmpty();
        }
        anotherKernelIsServed("good");
    }

    /**
     * Objects: an init of an id already initialized for the same object is answered with ready again
     * (outside review 3, O3-4: it was dropped unanswered), a wrong page size or unknown name
     * destroyed; a terminated id answers data_request with data_error; terminate of a futex held
     * while another kernel waits hands it on with handoff (spec 5, 8.4).
     */
    @Test
    void objectMisuseIsRefusedAndTerminateHandsTheFutexOn() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "k");
                ProbeKernel waiter = ProbeKernel.welcomed(pager.target(), "waiter")) {
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                    .setObjectId(1).setName("obj").setPageSize(4096)).build());
            // an id already initialized, for the same object: answered with ready again (spec 5.1), not dropped
            assertThat(k.await(m -> !m.hasPagerKeepalive()).getMemoryObjectReady().getObjectId()).isEqualTo(1);
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                    .setObjectId(2).setName("obj").setPageSize(8192)).build());
            assertThat(k.await(m -> !m.hasPagerKeepalive()).hasMemoryObjectDestroy()).isTrue();
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                    .setObjectId(3).setName("nope").setPageSize(4096)).build());
            assertThat(k.await(m -> !m.hasPagerKeepalive()).hasMemoryObjectDestroy()).isTrue();

            k.send(ProbeKernel.lock(8));
            k.await(PagerToKernel::hasMemoryObjectFutexGranted);
            waiter.send(ProbeKernel.lock(8));
            k.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            k.send(KernelToPager.newBuilder().setMemoryObjectTerminate(io.machxp.proto.xp.MemoryObjectTerminate
                    .newBuilder().setObjectId(1)).build());
            MemoryObjectFutexGrantedView g = new MemoryObjectFutexGrantedView(
                    waiter.await(PagerToKernel::hasMemoryObjectFutexGranted));
            assertThat(g.handoff()).isTrue();
            assertThat(g.ownerDied()).isFalse();
            k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ)).build());
            assertThat(k.await(m -> !m.hasPagerKeepalive()).hasMemoryObjectDataError()).isTrue();
            k.send(KernelToPager.newBuilder().setMemoryObjectTerminate(io.machxp.proto.xp.MemoryObjectTerminate
                    .newBuilder().setObjectId(1)).build());
            assertThat(k.barrier()).as("a second terminate").isEmpty();
        }
    }

    private record MemoryObjectFutexGrantedView(boolean handoff, boolean ownerDied) {
        MemoryObjectFutexGrantedView(PagerToKernel m) {
            this(m.getMemoryObjectFutexGranted().getHandoff(), m.getMemoryObjectFutexGranted().getOwnerDied());
        }
    }

    /**
     * A release carrying pages it may not give back (not held, the wrong size, outside the object,
     * twice the same page) still releases the futex (spec 8.5, 8.8: each page is judged on its own),
     * the waiter gets it without those pages, and dirty data from a reader changes nothing.
     */
    @Test
    void aReleaseWithBogusPagesStillHandsTheFutexOnWithoutThem() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "k");
                ProbeKernel waiter = ProbeKernel.welcomed(pager.target(), "waiter")) {
            k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(4096).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ)).build());
            k.await(m -> m.hasMemoryObjectDataUnavailable() || m.hasMemoryObjectDataSupply());
            k.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(4096).setDirty(true).setKernelCopy(true).setData(
                            com.google.protobuf.ByteString.copyFrom(new byte[4096]))).build());
            k.send(ProbeKernel.lock(8));
            long token = k.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            waiter.send(ProbeKernel.lock(8));
            k.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            com.google.protobuf.ByteString page = com.google.protobuf.ByteString.copyFrom(new byte[4096]);
            k.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(1).setOffset(8).setFencingToken(token).setHandoff(true)
                    .addPages(io.machxp.proto.xp.PageData.newBuilder().setOffset(0).setData(page).setDirty(true))
                    .addPages(io.machxp.proto.xp.PageData.newBuilder().setOffset(4096).setData(page).setDirty(true))
                    .addPages(io.machxp.proto.xp.PageData.newBuilder().setOffset(8192).setDirty(true)
                            .setData(com.google.protobuf.ByteString.copyFrom(new byte[7])))
                    .addPages(io.machxp.proto.xp.PageData.newBuilder().setOffset(SIZE).setData(page).setDirty(true))
                    .addPages(io.machxp.proto.xp.PageData.newBuilder().setOffset(-4096L).setData(page).setDirty(true))
                    .addPages(io.machxp.proto.xp.PageData.newBuilder().setOffset(0).setData(page).setDirty(true)))
                    .build());
            io.machxp.proto.xp.MemoryObjectFutexGranted g = waiter.await(PagerToKernel::hasMemoryObjectFutexGranted)
                    .getMemoryObjectFutexGranted();
            assertThat(g.getPagesList()).as("no page it could not give back").isEmpty();
            assertThat(g.getHandoff()).isTrue();
            assertThat(g.getFencingToken()).isGreaterThan(token);
            assertThat(pager.holderOf("obj", 8)).isEqualTo("waiter");
            k.barrier();
        }
        anotherKernelIsServed("good");
    }
}
