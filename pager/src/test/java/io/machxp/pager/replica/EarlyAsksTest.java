package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.policy.StickyLease;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The leader's early ask (xp-spec 13.6): a lock_futex is appended, and before the group commits
 * it the kernel the applied state names as the futex's holder is sent
 * memory_object_relinquish_futex_hint; the core's own relinquish_futex still follows the commit,
 * and the grant still waits for the holder's release to be committed and applied. The group here
 * is a leader whose entries are committed (applied to a replica core whose sends go to the
 * kernels' streams) when the test says.
 */
class EarlyAsksTest {
    private static final int PAGE = 4096;
    private static final long MS = 1_000_000;
    private ReplicaStreams streams;
    private ReplicaCore core;
    private Leader group;
    private EarlyAsks asks;
    private ReplicaXpService xp;

    EarlyAsksTest() {
        with(GrantPolicy.IMMEDIATE);
    }

    /** A fresh leader whose core's grant policy is {@code policy} (a grant's lease). */
    private EarlyAsksTest with(GrantPolicy policy) {
        streams = new ReplicaStreams();
        group = new Leader();
        core = new ReplicaCore("p", "a", PAGE, Map.of("obj", 4L * PAGE), 1000 * MS, streams, new PagerStats(), policy);
        asks = new EarlyAsks(core.holders(), streams);
        xp = new ReplicaXpService(group, streams, asks);
        core.apply(PagerLogEntry.newBuilder().setClockNanos(MS).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        return this;
    }

    /** One kernel's stream: what it sends, and what it got. */
    private final class Kernel {
        final List<PagerToKernel> got = new ArrayList<>();
        final StreamObserver<KernelToPager> in;

        Kernel(String name, boolean hints) {
            in = xp.connect(new StubServerCall() {
                @Override
                public void onNext(PagerToKernel m) {
                    got.add(m);
                }
            });
            KernelHello.Builder hello = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1)
                    .setResumable(true);
            if (hints) {
                hello.addFeatures("relinquish_hint");
            }
            in.onNext(KernelToPager.newBuilder().setKernelHello(hello).build());
            in.onNext(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(7)
                    .setName("obj").setPageSize(PAGE)).build());
        }

        void lock() {
            in.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(7).setOffset(0)).build());
        }

        void release(long token) {
            in.onNext(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(7).setOffset(0).setFencingToken(token)).build());
        }

        List<PagerToKernel.RoutineCase> routines() {
            List<PagerToKernel.RoutineCase> r = got.stream().map(PagerToKernel::getRoutineCase).toList();
            got.clear();
            return r;
        }

        long token() {
            return got.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).reduce((x, y) -> y).orElseThrow()
                    .getMemoryObjectFutexGranted().getFencingToken();
        }
    }

    /** A holds the futex (granted and committed); B's lock_futex has arrived, not committed. */
    private Kernel[] aHoldsBAsks(boolean bHints, boolean aHints) {
        Kernel a = new Kernel("A", aHints);
        Kernel b = new Kernel("B", bHints);
        a.lock();
        group.commit();
        assertThat(a.token()).isPositive();
        a.routines();
        b.routines();
        assertThat(core.holders().heldCount()).as("published only if A takes hints").isEqualTo(aHints ? 1 : 0);
        b.lock();
        return new Kernel[] {a, b};
    }

    @Test
    void theHolderIsHintedWhenTheRequestArrivesBeforeItCommits() {
        Kernel[] k = aHoldsBAsks(true, true);
        Kernel a = k[0];
        Kernel b = k[1];
        assertThat(group.pending()).as("B's lock_futex is appended, not committed").isEqualTo(1);
        List<PagerToKernel> hints = a.got.stream().filter(PagerToKernel::hasMemoryObjectRelinquishFutexHint).toList();
        assertThat(hints).as("A is asked as the request arrives").hasSize(1);
        assertThat(hints.get(0).getMemoryObjectRelinquishFutexHint().getObjectId()).isEqualTo(7);
        assertThat(asks.sent()).isEqualTo(1);
        long token = hints.get(0).getMemoryObjectRelinquishFutexHint().getFencingToken();
        a.got.clear();

        a.release(token); // A's answer follows B's request into the log, before either commits
        assertThat(group.pending()).isEqualTo(2);
        group.commit();
        assertThat(a.routines()).as("the core's own ask still follows the request's commit")
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX);
        assertThat(b.routines()).containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED);
    }

    @Test
    void theGrantWaitsForTheReleaseToCommit() {
        Kernel[] k = aHoldsBAsks(true, true);
        long token = k[0].got.get(0).getMemoryObjectRelinquishFutexHint().getFencingToken();
        group.commit(); // B's request only
        assertThat(k[1].routines()).as("no grant before the release").isEmpty();
        k[0].release(token);
        assertThat(k[1].routines()).as("not before its commit either").isEmpty();
        group.commit();
        assertThat(k[1].routines()).containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED);
    }

    @Test
    void aHolderWhoseHelloDidNotNameTheFeatureIsNotHinted() {
        Kernel[] k = aHoldsBAsks(true, false);
        assertThat(k[0].got).isEmpty();
        assertThat(asks.sent()).isZero();
    }

    @Test
    void aTrylockOrAnUpdateHintsNobody() {
        Kernel a = new Kernel("A", true);
        Kernel b = new Kernel("B", true);
        a.lock();
        group.commit();
        a.routines();
        b.in.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setTry(true)).build());
        b.in.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setUpdate(true).setPriority(3)).build());
        assertThat(a.got).isEmpty();
    }

    @Test
    void aFreeFutexOrAnotherFutexHintsNobody() {
        Kernel a = new Kernel("A", true);
        Kernel b = new Kernel("B", true);
        group.commit();
        a.routines();
        b.lock(); // nobody holds it
        assertThat(a.got).isEmpty();
        group.commit();
        b.routines();
        a.in.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(8)).build()); // another futex of the same object
        assertThat(b.got).isEmpty();
        a.in.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(9).setOffset(0)).build()); // an object id A never initialized
        assertThat(b.got).isEmpty();
        assertThat(asks.sent()).isZero();
    }

    @Test
    void aReleasedFutexLeavesTheMapAndAStaleHintNamesTheOldGrant() {
        Kernel[] k = aHoldsBAsks(true, true);
        long first = k[0].got.get(0).getMemoryObjectRelinquishFutexHint().getFencingToken();
        k[0].release(first);
        group.commit();
        long second = k[1].token();
        assertThat(second).isGreaterThan(first);
        k[0].got.clear();
        k[0].lock(); // A asks again: B is hinted under B's grant
        assertThat(k[1].got).filteredOn(PagerToKernel::hasMemoryObjectRelinquishFutexHint).singleElement()
                .satisfies(m -> assertThat(m.getMemoryObjectRelinquishFutexHint().getFencingToken()).isEqualTo(second));
    }

    /**
     * One hint per grant, however many kernels ask for the futex while it is held: the holder's
     * stream does not carry one per waiter. The next grant is hinted again, once.
     */
    @Test
    void theHolderIsHintedOncePerGrant() {
        Kernel c = new Kernel("C", true);
        Kernel d = new Kernel("D", true);
        Kernel[] k = aHoldsBAsks(true, true); // commits C's and D's inits too
        c.lock();
        d.lock();
        k[1].lock(); // B asks again (a duplicate)
        assertThat(k[0].got).as("four requests, one grant").filteredOn(PagerToKernel::hasMemoryObjectRelinquishFutexHint)
                .hasSize(1);
        assertThat(asks.sent()).isEqualTo(1);
        long token = k[0].got.get(0).getMemoryObjectRelinquishFutexHint().getFencingToken();
        k[0].release(token);
        group.commit();
        long second = k[1].token(); // B holds it now
        k[1].got.clear();
        k[0].lock();
        c.lock();
        assertThat(k[1].got).filteredOn(PagerToKernel::hasMemoryObjectRelinquishFutexHint).singleElement()
                .satisfies(m -> assertThat(m.getMemoryObjectRelinquishFutexHint().getFencingToken()).isEqualTo(second));
        assertThat(asks.sent()).isEqualTo(2);
    }

    /**
     * A grant's lease (the sticky-lease policy): no early ask while it runs by the request's own
     * clock stamp, so that the hint never cuts it short; one once it has run out.
     */
    @Test
    void noEarlyAskWhileTheGrantsLeaseRuns() {
        EarlyAsksTest t = with(new StickyLease(10 * MS));
        Kernel a = t.new Kernel("A", true);
        Kernel b = t.new Kernel("B", true);
        Kernel c = t.new Kernel("C", true);
        a.lock();
        t.group.commit();
        a.routines();
        b.lock(); // a millisecond after the grant
        assertThat(a.got).as("the lease runs: no hint").isEmpty();
        t.group.clock += 10 * MS;
        c.lock(); // past the lease by its stamp: A is hinted
        assertThat(a.routines()).containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX_HINT);
    }

    /** A leader whose appends are stamped at a clock that grows by a millisecond, and committed when the test says. */
    private final class Leader implements ReplicaXpService.Group {
        private final List<PagerLogEntry.Builder> entries = new ArrayList<>();
        private final List<CompletableFuture<Boolean>> commits = new ArrayList<>();
        private long sessions;
        private long clock = 2 * MS;

        int pending() {
            return entries.size();
        }

        void commit() {
            List<PagerLogEntry.Builder> now = new ArrayList<>(entries);
            List<CompletableFuture<Boolean>> done = new ArrayList<>(commits);
            entries.clear();
            commits.clear();
            for (PagerLogEntry.Builder e : now) {
                core.apply(e.build());
            }
            done.forEach(c -> c.complete(true));
        }

        @Override
        public boolean takesKernels() {
            return true;
        }

        @Override
        public Opened openSession(java.util.function.LongConsumer hold, String peer) {
            long id = ++sessions;
            hold.accept(id);
            return new Opened(id, append(PagerLogEntry.newBuilder().setSessionOpened(
                    io.machxp.proto.replica.SessionOpened.newBuilder().setSessionId(id))));
        }

        @Override
        public String[] leader() {
            return null;
        }

        @Override
        public CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
            clock += MS;
            entries.add(entry.setClockNanos(clock));
            CompletableFuture<Boolean> c = new CompletableFuture<>();
            commits.add(c);
            return c;
        }

        @Override
        public String id() {
            return "a";
        }
    }
}
