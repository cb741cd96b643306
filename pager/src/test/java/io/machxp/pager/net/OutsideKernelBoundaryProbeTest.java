package io.machxp.pager.net;

import static io.machxp.pager.net.ProbeKernel.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Probes of the pager by a kernel written from xp.proto and xp-spec alone, at the edges the other
 * probes leave: the order in which a hello is judged (2.2), a message with no routine first
 * (3.2), object ids at 0 and 2^32-1 and two ids for one object (5.2, 5.3), a keepalive at the top
 * of its range, and futex messages the pager must drop (3.4, 8.10). Without a lease.
 */
class OutsideKernelBoundaryProbeTest {
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

    private static KernelToPager init(int objectId) {
        return KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(objectId)
                .setName("obj").setPageSize(4096)).build();
    }

    private static KernelToPager lock(int objectId, long offset, boolean tryLock, int priority, boolean update) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset).setTry(tryLock).setPriority(priority).setUpdate(update))
                .build();
    }

    private static KernelToPager release(long offset, long token) {
        return KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(1).setOffset(offset).setFencingToken(token)).build();
    }

    /**
     * A hello is judged in the order of 2.2 (version, the name's form, the reclaim, the name held),
     * the stream ended at the first failure with that failure's status; a message with no routine is
     * EBADMSG also first (3.2). None of them touches the live session whose name they use.
     */
    @Test
    void hellosAreJudgedInTheSpecsOrder() throws Exception {
        var bad = ProbeKernel.hello("two words").getKernelHello();
        Object[][] cases = {
            {KernelToPager.getDefaultInstance(), io.grpc.Status.Code.INVALID_ARGUMENT, "EBADMSG"},
            {KernelToPager.newBuilder().setKernelHello(bad.toBuilder().setProtocolVersion(3)).build(),
                    io.grpc.Status.Code.UNIMPLEMENTED, "EPROTONOSUPPORT"},
            {KernelToPager.newBuilder().setKernelHello(bad.toBuilder().setReclaim(Reclaim.newBuilder()
                    .setKernelId(1))).build(), io.grpc.Status.Code.INVALID_ARGUMENT, "EINVAL"},
            {KernelToPager.newBuilder().setKernelHello(ProbeKernel.hello("live").getKernelHello().toBuilder()
                    .setProtocolVersion(0)).build(), io.grpc.Status.Code.UNIMPLEMENTED, "EPROTONOSUPPORT"},
            {KernelToPager.newBuilder().setKernelHello(ProbeKernel.hello("live").getKernelHello().toBuilder()
                    .setReclaim(Reclaim.newBuilder().setKernelId(1))).build(),
                    io.grpc.Status.Code.FAILED_PRECONDITION, "ESTALE"},
            {ProbeKernel.hello("live").build(), io.grpc.Status.Code.ALREADY_EXISTS, "EEXIST"},
        };
        try (ProbeKernel live = ProbeKernel.welcomed(pager.target(), "live")) {
            live.send(ProbeKernel.lock(8));
            long token = live.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            for (Object[] c : cases) {
                try (ProbeKernel k = new ProbeKernel(pager.target())) {
                    k.send((KernelToPager) c[0]);
                    com.google.rpc.Status end = k.end.get(30, TimeUnit.SECONDS);
                    assertThat(end.getCode()).as("%s", c[0]).isEqualTo(((io.grpc.Status.Code) c[1]).value());
                    assertThat(reason(end)).as("%s", c[0]).isEqualTo(c[2]);
                    assertThat(end.getMessage()).as("a sentence").hasSizeGreaterThan(20);
                }
                assertThat(live.barrier()).as("the live session after %s", c[0]).isEmpty();
            }
            assertThat(pager.holderOf("obj", 8)).isEqualTo("live");
            live.send(release(8, token));
            live.barrier();
            assertThat(pager.holderOf("obj", 8)).isNull();
        }
    }

    /**
     * object_id is a uint32: 0 and 2^32-1 are ids like any other, and the pager names the object
     * by the kernel's id in what it sends. With two ids for one object, terminating one releases
     * nothing (5.3); terminating the last hands the futex on. A keepalive's sequence of 2^64-1 is
     * answered as it is.
     */
    @Test
    void objectIdsAtTheEdgesOfTheirRangeAndTwoIdsForOneObject() throws Exception {
        try (ProbeKernel k = new ProbeKernel(pager.target());
                ProbeKernel waiter = ProbeKernel.welcomed(pager.target(), "waiter")) {
            k.send(ProbeKernel.hello("edges").build());
            k.await(PagerToKernel::hasPagerWelcome);
            k.send(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(-1L))
                    .build());
            assertThat(k.await(x -> true).getPagerKeepalive().getSequence()).isEqualTo(-1L);
            k.send(init(-1));
            PagerToKernel ready = k.await(x -> true);
            assertThat(ready.getMemoryObjectReady().getObjectId()).isEqualTo(-1);
            assertThat(ready.getMemoryObjectReady().getSize()).isEqualTo(SIZE);
            k.send(init(0));
            assertThat(k.await(x -> true).getMemoryObjectReady().getObjectId()).isZero();

            k.send(lock(-1, SIZE - 4, false, 0, false));
            var granted = k.await(x -> true).getMemoryObjectFutexGranted();
            // 5.2: either id names the object; machxp's pager uses the first initialized, here 2^32-1.
            assertThat(granted.getObjectId()).isEqualTo(-1);
            assertThat(granted.getOffset()).isEqualTo(SIZE - 4);
            k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(0).setOffset(SIZE - 4096).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ))
                    .build());
            PagerToKernel page = k.await(x -> true);
            assertThat(page.hasMemoryObjectDataUnavailable() || page.hasMemoryObjectDataSupply()).as("%s", page)
                    .isTrue();

            waiter.send(ProbeKernel.lock(SIZE - 4));
            assertThat(k.await(PagerToKernel::hasMemoryObjectRelinquishFutex).getMemoryObjectRelinquishFutex()
                    .getObjectId()).isEqualTo(-1);
            k.send(KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                    .setObjectId(-1)).build());
            k.barrier();
            assertThat(waiter.barrier()).as("id 0 still names the object: nothing is released").isEmpty();
            assertThat(pager.holderOf("obj", SIZE - 4)).isEqualTo("edges");
            k.send(lock(0, 4, false, 0, false));
            assertThat(k.await(x -> true).getMemoryObjectFutexGranted().getObjectId()).as("named by the id left")
                    .isZero();
            k.send(KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                    .setObjectId(0)).build());
            var handed = waiter.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted();
            assertThat(handed.getFencingToken()).isGreaterThan(granted.getFencingToken());
            assertThat(handed.getOwnerDied()).isFalse();
            assertThat(k.barrier()).isEmpty();
        }
    }

    /**
     * Futex messages 3.4 drops, each followed by the message that does count: a futex_held with
     * another grant's token leaves the trylock waiting (the right one answers it busy); a trylock
     * and a second lock_futex from the holder are dropped; a second lock_futex from a queued kernel
     * without {@code update} keeps its priority, with {@code update} it moves up.
     */
    @Test
    void futexMessagesThePagerMustDropChangeNothing() throws Exception {
        try (ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder");
                ProbeKernel trier = ProbeKernel.welcomed(pager.target(), "trier");
                ProbeKernel low = ProbeKernel.welcomed(pager.target(), "low");
                ProbeKernel high = ProbeKernel.welcomed(pager.target(), "high")) {
            holder.send(ProbeKernel.lock(8));
            long token = holder.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            holder.send(lock(1, 8, true, 0, false));
            holder.send(lock(1, 8, false, 40, false));
            assertThat(holder.barrier()).as("the holder's own trylock and lock").isEmpty();

            trier.send(lock(1, 8, true, 0, false));
            assertThat(holder.await(PagerToKernel::hasMemoryObjectRelinquishFutex).getMemoryObjectRelinquishFutex()
                    .getTry()).isTrue();
            long refused = pager.stats().refused();
            holder.send(KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                    .setObjectId(1).setOffset(8).setFencingToken(token + 1)).build());
            holder.barrier();
            assertThat(trier.barrier()).as("a futex_held with another token answers nothing").isEmpty();
            assertThat(pager.stats().refused() - refused).as("dropped silently, as a crossing (3.4, 10.2)").isZero();
            holder.send(KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                    .setObjectId(1).setOffset(8).setFencingToken(token)).build());
            assertThat(trier.await(x -> true).hasMemoryObjectFutexBusy()).isTrue();

            low.send(lock(1, 8, false, 5, false));
            low.barrier();
            high.send(lock(1, 8, false, 10, false));
            high.barrier();
            low.send(lock(1, 8, false, 50, false)); // no update: dropped, low still waits at 5
            low.barrier();
            holder.barrier();
            holder.send(release(8, token));
            var first = high.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted();
            assertThat(first.getRelinquish()).as("low still waits").isTrue();
            assertThat(first.getRelinquishPriority()).as("at the priority it asked first").isEqualTo(5);
            assertThat(low.barrier()).isEmpty();

            low.send(lock(1, 8, false, 70, true));
            List<PagerToKernel> asked = high.barrier();
            assertThat(asked).as("the update raised the top priority").hasSize(1);
            assertThat(asked.get(0).getMemoryObjectRelinquishFutex().getPriority()).isEqualTo(70);
            high.send(release(8, first.getFencingToken()));
            assertThat(low.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken()).isGreaterThan(first.getFencingToken());
        }
    }
    /**
     * xp-spec 3.5: a data_unlock is answered, also from the kernel that holds the page writable
     * already (a kernel that lost track of its access): with allow write, which gives it nothing it
     * does not have. The page stays its own, and another kernel's write still flushes it.
     */
    @Test
    void aDataUnlockFromTheWriterIsAnswered() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "writer");
                ProbeKernel other = ProbeKernel.welcomed(pager.target(), "other")) {
            k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(4096).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ_WRITE))
                    .build());
            PagerToKernel page = k.await(x -> true);
            assertThat(page.hasMemoryObjectDataUnavailable() || page.hasMemoryObjectDataSupply()).isTrue();
            k.send(KernelToPager.newBuilder().setMemoryObjectDataUnlock(io.machxp.proto.xp.MemoryObjectDataUnlock
                    .newBuilder().setObjectId(1).setOffset(4096).setLength(4096).setDesiredAccess(VmProt.VM_PROT_WRITE))
                    .build());
            List<PagerToKernel> answer = k.barrier();
            assertThat(answer).as("one answer to the data_unlock").hasSize(1);
            var allow = answer.get(0).getMemoryObjectLockRequest();
            assertThat(allow.getOffset()).isEqualTo(4096);
            assertThat(allow.getLockValue()).isEqualTo(VmProt.VM_PROT_NONE);
            assertThat(allow.getShouldFlush()).isFalse();
            assertThat(allow.getReply()).isFalse();

            other.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(4096).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ_WRITE))
                    .build());
            var flush = k.await(PagerToKernel::hasMemoryObjectLockRequest).getMemoryObjectLockRequest();
            assertThat(flush.getShouldFlush()).isTrue();
            assertThat(flush.getReply()).isTrue();
            k.send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(io.machxp.proto.xp.MemoryObjectLockCompleted
                    .newBuilder().setObjectId(1).setOffset(4096).setLength(4096)).build());
            PagerToKernel theirs = other.await(x -> true);
            assertThat(theirs.hasMemoryObjectDataUnavailable() || theirs.hasMemoryObjectDataSupply()).isTrue();
        }
    }
    /**
     * 2.6, 4.4, 8.4: without a lease, a kernel that half-closes while it holds a futex and a page
     * gives everything back as by terminate: the pager completes the stream OK, the waiter gets
     * the futex with handoff and without owner_died, and the page is free for a writer at once.
     */
    @Test
    void aHalfCloseWithoutALeaseReleasesEverythingAsTerminate() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "leaving");
                ProbeKernel waiter = ProbeKernel.welcomed(pager.target(), "waiter")) {
            k.send(ProbeKernel.lock(8));
            long token = k.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ_WRITE))
                    .build());
            k.await(m -> m.hasMemoryObjectDataUnavailable() || m.hasMemoryObjectDataSupply());
            waiter.send(ProbeKernel.lock(8));
            k.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            synchronized (k.out) {
                k.out.onCompleted();
            }
            assertThat(k.end.get(30, TimeUnit.SECONDS).getCode()).as("the pager completes its side").isZero();
            var g = waiter.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted();
            assertThat(g.getHandoff()).isTrue();
            assertThat(g.getOwnerDied()).isFalse();
            assertThat(g.getFencingToken()).isGreaterThan(token);
            waiter.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ_WRITE))
                    .build());
            PagerToKernel page = waiter.await(m -> !m.hasPagerKeepalive());
            assertThat(page.hasMemoryObjectDataUnavailable() || page.hasMemoryObjectDataSupply())
                    .as("no flush to wait for: %s", page).isTrue();
            assertThat(pager.kernels()).containsExactly("waiter");
        }
    }
}
