package io.machxp.pager.net;

import static io.machxp.pager.net.ProbeKernel.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Probes of the pager's leases, deaths and resumes by a kernel written from xp.proto and xp-spec
 * alone: kernels that vanish in the middle of a handoff, and resumes with the wrong credentials.
 * Each waits on what the pager sends, never on time.
 *
 * <p>Only the first probe waits out a lease ({@link #LEASE}); the others run under one no step of
 * theirs outlives ({@link #KEPT}), so that a loaded machine, which may take seconds to open a
 * channel, cannot end a session they count on. What the first asserts "within the lease" is read
 * on the pager's clock (its XP listener) against the vanished holder's last answered keepalive:
 * what the pager hands on, it hands on no earlier than a lease after it; what it answers before,
 * is busy.
 */
class OutsideKernelLeaseProbeTest {
    /** The lease of the probe that waits one out. */
    private static final Duration LEASE = Duration.ofSeconds(3);
    /** The lease of the probes that do not wait one out: longer than any of their steps. */
    private static final Duration KEPT = Duration.ofMinutes(1);
    private Pager pager;

    @BeforeEach
    void start() throws Exception {
        pager = start(KEPT);
    }

    private static Pager start(Duration lease) throws Exception {
        return Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(lease));
    }

    @AfterEach
    void stop() {
        pager.close();
    }

    /** A page-in of the object's first page. */
    private static KernelToPager pageIn(VmProt access) {
        return KernelToPager.newBuilder().setMemoryObjectDataRequest(io.machxp.proto.xp.MemoryObjectDataRequest
                .newBuilder().setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(access)).build();
    }

    private static KernelToPager release(long offset, long token) {
        return KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(1).setOffset(offset).setFencingToken(token)).build();
    }

    /**
     * The holder vanishes while two kernels queue behind it: after its lease the futex goes to the
     * first with owner_died (spec 4.5, 8.7), and from it to the second without; a trylock that
     * waited on the holder's answer is answered too. The trylock's futex, which nobody waited for
     * at the death and whose page the holder had writable (its thread's TID may have been in it),
     * goes to the next trylock with the death recorded by the pager in the word (OWNER_DIED, TID
     * 0), as Linux's robust-list walk leaves it, not in the grant (spec 8.7). The holder keeps its
     * lease until it vanishes; after, a trylock the pager answers within its lease is busy, and
     * nothing is granted (a trylock that reaches the pager only once the lease may have ended, on
     * a loaded machine, may be granted: then not before then).
     */
    @Test
    void aHolderThatVanishesWithKernelsQueuedHandsOnWithOwnerDied() throws Exception {
        pager.close();
        pager = start(LEASE);
        Map<String, Long> grantedAt = new java.util.concurrent.ConcurrentHashMap<>(); // the pager's first grant to each
        pager.stats().listen(new io.machxp.pager.core.PagerStats.XpListener() {
            @Override
            public void received(String kernel, KernelToPager message) {}

            @Override
            public void sent(String kernel, PagerToKernel message) {
                if (message.hasMemoryObjectFutexGranted()) {
                    grantedAt.putIfAbsent(kernel, System.nanoTime());
                }
            }
        });
        ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder").keepingAlive(400);
        try (ProbeKernel first = ProbeKernel.welcomed(pager.target(), "first").keepingAlive(400);
                ProbeKernel second = ProbeKernel.welcomed(pager.target(), "second").keepingAlive(400);
                ProbeKernel trier = ProbeKernel.welcomed(pager.target(), "trier").keepingAlive(400)) {
            holder.send(ProbeKernel.lock(8));
            holder.await(PagerToKernel::hasMemoryObjectFutexGranted);
            holder.send(ProbeKernel.lock(16));
            holder.await(PagerToKernel::hasMemoryObjectFutexGranted);
            holder.send(pageIn(VmProt.VM_PROT_READ_WRITE)); // its threads take the futexes in the page
            holder.await(m -> m.hasMemoryObjectDataSupply() || m.hasMemoryObjectDataUnavailable());
            trier.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(1).setOffset(16).setTry(true)).build());
            trier.barrier();
            first.send(ProbeKernel.lock(8));
            first.barrier();
            second.send(ProbeKernel.lock(8));
            second.barrier();
            holder.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            holder.barrier(); // a keepalive answered just before it vanishes
            holder.crash();
            // The pager heard the holder last no earlier than it sent its last answered keepalive:
            // its lease ends no earlier than a lease after that, on the pager's clock (this JVM's).
            assertThat(holder.answeredKeepaliveSentNanos()).isNotEqualTo(Long.MIN_VALUE);
            long leaseEndsNoEarlier = holder.answeredKeepaliveSentNanos() + LEASE.toNanos();

            // The holder cannot answer the trylock's relinquish(try) any more: busy, at once (while
            // the holder's futexes are still its own), not a lease later.
            MemoryObjectFutexGranted t = null; // the trylock's grant, once the holder's lease has ended
            PagerToKernel answer = trier.await(m -> m.hasMemoryObjectFutexGranted() || m.hasMemoryObjectFutexBusy());
            if (!answer.hasMemoryObjectFutexBusy()) {
                t = answer.getMemoryObjectFutexGranted(); // a loaded machine: the lease ended first
            }
            String holderOf16 = pager.holderOf("obj", 16);
            if (!"holder".equals(holderOf16)) {
                assertThat(System.nanoTime()).as("the holder's futex left it (to %s), so its lease had ended",
                        holderOf16).isGreaterThanOrEqualTo(leaseEndsNoEarlier);
            }
            if (t == null) {
                trier.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                        .setObjectId(1).setOffset(16).setTry(true)).build());
                answer = trier.await(m -> m.hasMemoryObjectFutexGranted() || m.hasMemoryObjectFutexBusy());
                if (!answer.hasMemoryObjectFutexBusy()) {
                    t = answer.getMemoryObjectFutexGranted(); // "busy while broken" unless the lease ended first
                }
            }

            MemoryObjectFutexGranted g1 = first.await(PagerToKernel::hasMemoryObjectFutexGranted)
                    .getMemoryObjectFutexGranted();
            assertThat(g1.getOwnerDied()).isTrue();
            assertThat(g1.getRelinquish()).as("second waits: the grant carries the relinquish").isTrue();
            if (t == null) {
                trier.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                        .setObjectId(1).setOffset(16).setTry(true)).build());
                t = trier.await(m -> m.hasMemoryObjectFutexGranted() || m.hasMemoryObjectFutexBusy())
                        .getMemoryObjectFutexGranted();
            }
            // Nothing the holder held was handed on within its lease: every trylock answered before is busy.
            assertThat(grantedAt.get("first") - leaseEndsNoEarlier).as("first's grant after the holder's lease")
                    .isNotNegative();
            assertThat(grantedAt.get("trier") - leaseEndsNoEarlier).as("the trylock's grant after the holder's lease")
                    .isNotNegative();
            assertThat(t.getOwnerDied()).as("the dead holder's futex, free now: the death is in its word").isFalse();
            trier.send(pageIn(VmProt.VM_PROT_READ));
            PagerToKernel page = trier.await(m -> m.hasMemoryObjectDataSupply() || m.hasMemoryObjectDataUnavailable());
            assertThat(page.hasMemoryObjectDataSupply()).as("the pager wrote the page").isTrue();
            assertThat(java.nio.ByteBuffer.wrap(page.getMemoryObjectDataSupply().getData().toByteArray())
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(16))
                    .as("the dead holder's futex word: OWNER_DIED, no owner (its next locker gets EOWNERDEAD)")
                    .isEqualTo(0x40000000);
            second.barrier();
            first.send(release(8, g1.getFencingToken()));
            MemoryObjectFutexGranted g2 = second.await(PagerToKernel::hasMemoryObjectFutexGranted)
                    .getMemoryObjectFutexGranted();
            assertThat(g2.getOwnerDied()).isFalse();
            assertThat(g2.getFencingToken()).isGreaterThan(g1.getFencingToken());
        }
    }

    /** A waiter that vanishes leaves the queue at once: the futex goes on to the next, or is free. */
    @Test
    void aWaiterThatVanishesDoesNotStrandTheFutex() throws Exception {
        try (ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder").keepingAlive(400);
                ProbeKernel next = ProbeKernel.welcomed(pager.target(), "next").keepingAlive(400)) {
            ProbeKernel gone = ProbeKernel.welcomed(pager.target(), "gone");
            holder.send(ProbeKernel.lock(8));
            long token = holder.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            gone.send(ProbeKernel.lock(8));
            gone.barrier();
            holder.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            gone.crash();
            next.send(ProbeKernel.lock(8));
            next.barrier();
            holder.send(release(8, token));
            assertThat(next.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getOwnerDied()).isFalse();
        }
    }

    /**
     * Resumes the pager cannot take (spec 4.7) end the new stream with ESTALE and change nothing:
     * the session goes on on its stream. A good resume then moves it, the old stream is ended,
     * and a second resume with the same attempt is refused.
     */
    @Test
    void resumesWithWrongCredentialsAreRefusedAndTheSessionGoesOn() throws Exception {
        try (ProbeKernel k = new ProbeKernel(pager.target())) {
            k.send(ProbeKernel.hello("k").setKernelHello(ProbeKernel.hello("k").getKernelHello().toBuilder()
                    .setResumable(true)).build());
            k.keepingAlive(400);
            PagerWelcome w = k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
            assertThat(w.getSessionToken()).isNotZero();
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                    .setObjectId(1).setName("obj").setPageSize(4096)).build());
            k.send(ProbeKernel.lock(8));
            k.await(PagerToKernel::hasMemoryObjectFutexGranted);
            k.barrier(); // the pager sent 3: ready, granted, keepalive
            Resume good = Resume.newBuilder().setKernelId(w.getKernelId()).setSessionToken(w.getSessionToken())
                    .setReceived(3).setAttempt(1).build();
            Resume[] bad = {good.toBuilder().setSessionToken(w.getSessionToken() + 1).build(),
                    good.toBuilder().setKernelId(w.getKernelId() + 1).build(),
                    good.toBuilder().setReceived(1000).build(), good.toBuilder().setReceived(-1L).build(),
                    good.toBuilder().setAttempt(0).build()};
            for (Resume r : bad) {
                try (ProbeKernel again = new ProbeKernel(pager.target())) {
                    again.send(ProbeKernel.hello("k").setKernelHello(ProbeKernel.hello("k").getKernelHello()
                            .toBuilder().setResumable(true).setResume(r)).build());
                    com.google.rpc.Status end = again.end.get(30, TimeUnit.SECONDS);
                    assertThat(end.getCode()).as("%s", r).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION.value());
                    assertThat(reason(end)).isEqualTo("ESTALE");
                }
                assertThat(k.barrier()).as("the session goes on after %s", r).isEmpty();
            }
            assertThat(k.end).isNotDone();
            assertThat(pager.holderOf("obj", 8)).isEqualTo("k");

            ProbeKernel moved = new ProbeKernel(pager.target());
            moved.send(ProbeKernel.hello("k").setKernelHello(ProbeKernel.hello("k").getKernelHello().toBuilder()
                    .setResumable(true).setResume(good.toBuilder().setReceived(3))).build());
            moved.keepingAlive(400);
            // The pager has sent one keepalive answer per bad resume since: those are sent again.
            PagerWelcome resumed = moved.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
            assertThat(resumed.getResumed()).isTrue();
            assertThat(reason(k.end.get(30, TimeUnit.SECONDS))).isEqualTo("ESTALE");
            try (ProbeKernel twice = new ProbeKernel(pager.target())) {
                twice.send(ProbeKernel.hello("k").setKernelHello(ProbeKernel.hello("k").getKernelHello().toBuilder()
                        .setResumable(true).setResume(good)).build());
                assertThat(reason(twice.end.get(30, TimeUnit.SECONDS))).as("the same attempt again")
                        .isEqualTo("ESTALE");
            }
            moved.barrier();
            assertThat(pager.holderOf("obj", 8)).isEqualTo("k");
            moved.close();
        }
    }

    /**
     * Once the pager ends a session's stream (here for a breach of XP) while it holds a futex, the
     * session is broken (spec 4.4): messages of it still in flight must not put it back in a queue,
     * where it would be granted a futex on a stream nobody reads and strand it for a lease.
     */
    @Test
    void messagesInFlightAfterThePagerEndedAStreamAreDropped() throws Exception {
        try (ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder").keepingAlive(400);
                ProbeKernel other = ProbeKernel.welcomed(pager.target(), "other").keepingAlive(400)) {
            holder.send(ProbeKernel.lock(16));
            long token = holder.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            ProbeKernel bad = ProbeKernel.welcomed(pager.target(), "bad");
            bad.send(ProbeKernel.lock(8));
            bad.await(PagerToKernel::hasMemoryObjectFutexGranted);
            for (int round = 0; round < 20 && !bad.end.isDone(); round++) {
                bad.send(KernelToPager.getDefaultInstance()); // no routine: EBADMSG, the stream ends
                for (int i = 0; i < 50; i++) {
                    bad.send(ProbeKernel.lock(16));
                }
            }
            com.google.rpc.Status end = bad.end.get(30, TimeUnit.SECONDS);
            assertThat(reason(end)).isEqualTo("EBADMSG");
            holder.barrier();
            // Whatever arrived after the end was dropped: the holder is not asked for the futex, and
            // when it gives it back the futex is free for the next kernel at once.
            holder.send(release(16, token));
            holder.barrier();
            assertThat(pager.holderOf("obj", 16)).isNull();
            other.send(ProbeKernel.lock(16));
            assertThat(other.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getOwnerDied()).isFalse();
            bad.close();
        }
    }

    /**
     * Two resumes at once, attempts 2 and 3, on two new streams: whatever their order at the pager,
     * the session ends up on the stream of attempt 3 (spec 4.7: only a greater attempt is taken),
     * the other stream ends with ESTALE, and the session keeps its futex. Keepalives whose
     * sequence goes backwards are answered each with its own sequence.
     */
    @Test
    void twoResumesAtOnceLeaveTheSessionOnTheLaterAttempt() throws Exception {
        try (ProbeKernel k = new ProbeKernel(pager.target())) {
            k.send(ProbeKernel.hello("k").setKernelHello(ProbeKernel.hello("k").getKernelHello().toBuilder()
                    .setResumable(true)).build());
            PagerWelcome w = k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                    .setObjectId(1).setName("obj").setPageSize(4096)).build());
            k.send(ProbeKernel.lock(8));
            k.await(PagerToKernel::hasMemoryObjectFutexGranted);
            for (long seq : new long[] {9, 3, 0}) {
                k.send(KernelToPager.newBuilder().setKernelKeepalive(io.machxp.proto.xp.KernelKeepalive.newBuilder()
                        .setSequence(seq)).build());
                assertThat(k.await(PagerToKernel::hasPagerKeepalive).getPagerKeepalive().getSequence()).isEqualTo(seq);
            }
            Resume r = Resume.newBuilder().setKernelId(w.getKernelId()).setSessionToken(w.getSessionToken())
                    .setReceived(2).build();
            ProbeKernel second = new ProbeKernel(pager.target());
            ProbeKernel third = new ProbeKernel(pager.target());
            try (second; third) {
                third.send(ProbeKernel.hello("k").setKernelHello(ProbeKernel.hello("k").getKernelHello().toBuilder()
                        .setResumable(true).setResume(r.toBuilder().setAttempt(3))).build());
                second.send(ProbeKernel.hello("k").setKernelHello(ProbeKernel.hello("k").getKernelHello().toBuilder()
                        .setResumable(true).setResume(r.toBuilder().setAttempt(2))).build());
                third.keepingAlive(400);
                assertThat(third.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getResumed()).isTrue();
                assertThat(reason(second.end.get(30, TimeUnit.SECONDS))).isEqualTo("ESTALE");
                assertThat(reason(k.end.get(30, TimeUnit.SECONDS))).isEqualTo("ESTALE");
                third.barrier();
                assertThat(third.end).isNotDone();
                assertThat(pager.holderOf("obj", 8)).isEqualTo("k");
            }
        }
    }
    /**
     * 4.4 and 2.2: a kernel whose stream breaks holding nothing is forgotten at once (its name
     * connects again, keeping its id, 2.5); one that holds only a read-only page keeps it for its
     * lease, and a hello under its name meanwhile ends RESOURCE_EXHAUSTED / EAGAIN with a sentence.
     */
    @Test
    void aBrokenStreamHoldingNothingIsForgottenAtOnceAndOneHoldingAPageIsNot() throws Exception {
        ProbeKernel idle = new ProbeKernel(pager.target());
        idle.send(ProbeKernel.hello("idle").build());
        int id = idle.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId();
        idle.crash();
        ProbeKernel reader = ProbeKernel.welcomed(pager.target(), "reader");
        reader.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(io.machxp.proto.xp.MemoryObjectDataRequest
                .newBuilder().setObjectId(1).setOffset(0).setLength(4096).setDesiredAccess(
                        io.machxp.proto.xp.VmProt.VM_PROT_READ)).build());
        reader.await(m -> m.hasMemoryObjectDataUnavailable() || m.hasMemoryObjectDataSupply());
        reader.crash();
        try (ProbeKernel watcher = ProbeKernel.welcomed(pager.target(), "watcher").keepingAlive(400)) {
            // Once the pager has seen both streams end (a hello of each name tells), each name is judged.
            com.google.rpc.Status refused = null;
            while (refused == null) {
                try (ProbeKernel again = new ProbeKernel(pager.target())) {
                    again.send(ProbeKernel.hello("reader").build());
                    PagerToKernel m = again.awaitOrEnd();
                    if (m == null) {
                        refused = again.end.get(30, TimeUnit.SECONDS);
                    } else {
                        throw new AssertionError("'reader' holds a page within its lease, yet " + m);
                    }
                }
                if (reason(refused).equals("EEXIST")) {
                    refused = null; // the break has not reached the pager yet: ask again
                }
            }
            assertThat(refused.getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value());
            assertThat(reason(refused)).isEqualTo("EAGAIN");
            assertThat(refused.getMessage()).contains("lease");
            int again = -1;
            while (again < 0) {
                try (ProbeKernel back = new ProbeKernel(pager.target())) {
                    back.send(ProbeKernel.hello("idle").build());
                    PagerToKernel m = back.awaitOrEnd();
                    if (m != null) {
                        again = m.getPagerWelcome().getKernelId();
                    } else {
                        assertThat(reason(back.end.get(30, TimeUnit.SECONDS))).isEqualTo("EEXIST");
                    }
                }
            }
            assertThat(again).as("its name keeps its id").isEqualTo(id);
            assertThat(watcher.barrier()).isEmpty();
        }
    }
}
