package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Resume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The holders a pager core publishes for a replicated pager's leader ({@link FutexHolderMap}):
 * each grant, under the holder's object id and token; gone with the release; the holder's stream
 * followed across a resume; a session's own futex, a kernel without the feature, a free futex and
 * an unknown object id name nobody; everything again after a snapshot is restored.
 */
class FutexHolderMapTest {
    private static final long LEASE = 1_000_000_000L;
    private final List<PagerToKernel> sent = new ArrayList<>();
    private final PagerCore pager = core();
    private final FutexHolderMap map = new FutexHolderMap();

    private PagerCore core() {
        return new PagerCore("p", 4096, new ObjectCatalog(Map.of("obj", 4 * 4096L), 4096), new PagerEnv() {
            @Override
            public void send(long sessionId, PagerToKernel message) {
                sent.add(message);
            }

            @Override
            public void endSession(long sessionId, Errno errno, String message) {}

            @Override
            public long nanoTime() {
                return 5;
            }

            @Override
            public void schedule(long delayNanos, Runnable action) {}
        }, new PagerStats(), new PagerOptions(LEASE, 3));
    }

    private long open(long stream, String name, int objectId, boolean hints) {
        pager.sessionOpened(stream);
        KernelHello.Builder hello = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).setResumable(true);
        if (hints) {
            hello.addFeatures(FutexHolderMap.FEATURE);
        }
        sent.clear();
        pager.onXp(stream, KernelToPager.newBuilder().setKernelHello(hello).build());
        long token = sent.get(0).getPagerWelcome().getSessionToken();
        pager.onXp(stream, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                .setObjectId(objectId).setName("obj").setPageSize(4096)).build());
        return token;
    }

    private long lock(long stream, int objectId, long offset) {
        sent.clear();
        pager.onXp(stream, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset)).build());
        return sent.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).findFirst()
                .map(m -> m.getMemoryObjectFutexGranted().getFencingToken()).orElse(0L);
    }

    @Test
    void grantsArePublishedAndReleasesRemoveThem() {
        pager.publishHolders(map);
        open(1, "A", 7, true);
        open(2, "B", 3, false);
        long token = lock(1, 7, 0);
        assertThat(token).isPositive();

        FutexHolderMap.Holder h = map.hintFor(2, 3, 0);
        assertThat(h).isNotNull();
        assertThat(h.session().streamId()).isEqualTo(1);
        assertThat(h.objectId()).as("in the holder's numbering").isEqualTo(7);
        assertThat(h.token()).isEqualTo(token);
        assertThat(h.askableFromNanos()).as("no lease: askable from its grant").isEqualTo(5);
        assertThat(map.hintFor(1, 7, 0)).as("its own futex").isNull();
        assertThat(map.hintFor(2, 3, 8)).as("a free futex").isNull();
        assertThat(map.hintFor(2, 9, 0)).as("an object id B never initialized").isNull();
        assertThat(map.hintFor(99, 3, 0)).as("no such stream").isNull();

        assertThat(lock(2, 3, 8)).isPositive();
        assertThat(map.hintFor(1, 7, 8)).as("B's hello did not name the feature").isNull();

        pager.onXp(1, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(7).setOffset(0).setFencingToken(token)).build());
        assertThat(map.hintFor(2, 3, 0)).isNull();
        assertThat(map.heldCount()).as("B's grant is not published: B is never hinted").isZero();
    }

    @Test
    void aResumeMovesTheHoldersStreamAndASnapshotIsPublishedAgain() {
        pager.publishHolders(map);
        long sessionToken = open(1, "A", 7, true);
        open(2, "B", 3, true);
        long token = lock(1, 7, 0);
        pager.sessionOpened(5);
        sent.clear();
        pager.onXp(5, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setResumable(true).setResume(Resume.newBuilder().setKernelId(1)
                        .setSessionToken(sessionToken).setReceived(0).setAttempt(1))).build());
        assertThat(sent.get(0).getPagerWelcome().getResumed()).isTrue();
        assertThat(map.hintFor(2, 3, 0).session().streamId()).as("the resumed stream").isEqualTo(5);
        assertThat(map.hintFor(1, 7, 8)).as("the old stream is gone").isNull();
        assertThat(lock(5, 7, 8)).isPositive();
        assertThat(map.hintFor(2, 3, 8).session().streamId()).isEqualTo(5);

        PagerCore restored = core();
        FutexHolderMap again = new FutexHolderMap();
        restored.publishHolders(again);
        restored.restore(pager.snapshot());
        assertThat(again.heldCount()).isEqualTo(2);
        assertThat(again.hintFor(2, 3, 0).token()).isEqualTo(token);
        assertThat(again.hintFor(2, 3, 0).session().streamId()).isEqualTo(5);
        assertThat(again.hintFor(5, 7, 0)).as("A's own").isNull();
    }

    @Test
    void publishingLateTakesWhatIsHeldAlready() {
        open(1, "A", 7, true);
        open(2, "B", 3, true);
        lock(1, 7, 0);
        pager.publishHolders(map);
        assertThat(map.hintFor(2, 3, 0).objectId()).isEqualTo(7);
    }

    /**
     * The work an init or a terminate costs the applying thread is the change's, not the session's
     * (counted by {@link FutexHolderMap#work}, not timed): an init re-resolves nothing, a terminate
     * of a kernel without the feature nothing, and a terminate of the id an object is named by one
     * scan of the session's objects and the futexes of that object only.
     */
    @Test
    void anInitOrATerminateCostsTheChangeNotTheSession() {
        int objects = 64;
        Map<String, Long> served = new java.util.HashMap<>();
        for (int i = 0; i < objects; i++) {
            served.put("o" + i, 4 * 4096L);
        }
        PagerCore big = new PagerCore("p", 4096, new ObjectCatalog(served, 4096), new PagerEnv() {
            @Override
            public void send(long sessionId, PagerToKernel message) {
                sent.add(message);
            }

            @Override
            public void endSession(long sessionId, Errno errno, String message) {}

            @Override
            public long nanoTime() {
                return 5;
            }

            @Override
            public void schedule(long delayNanos, Runnable action) {}
        }, new PagerStats(), new PagerOptions(LEASE, 3));
        big.publishHolders(map);
        for (long stream = 1; stream <= 2; stream++) {
            big.sessionOpened(stream);
            KernelHello.Builder hello = KernelHello.newBuilder().setKernelName(stream == 1 ? "A" : "B")
                    .setProtocolVersion(1).setResumable(true);
            if (stream == 1) {
                hello.addFeatures(FutexHolderMap.FEATURE);
            }
            big.onXp(stream, KernelToPager.newBuilder().setKernelHello(hello).build());
            for (int i = 0; i < objects; i++) {
                big.onXp(stream, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                        .setObjectId(i + 1).setName("o" + i).setPageSize(4096)).build());
                big.onXp(stream, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex
                        .newBuilder().setObjectId(i + 1).setOffset(stream * 8)).build());
            }
        }
        assertThat(map.hintFor(2, 1, 8).objectId()).isEqualTo(1);

        long before = map.work();
        big.onXp(1, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                .setObjectId(100).setName("o0").setPageSize(4096)).build()); // a second id for o0
        assertThat(map.work() - before).as("an init changes no id a futex is named by").isZero();

        before = map.work();
        big.onXp(2, KernelToPager.newBuilder().setMemoryObjectTerminate(
                io.machxp.proto.xp.MemoryObjectTerminate.newBuilder().setObjectId(5)).build());
        assertThat(map.work() - before).as("B takes no hints: nothing of its is re-resolved").isZero();

        before = map.work();
        big.onXp(1, KernelToPager.newBuilder().setMemoryObjectTerminate(
                io.machxp.proto.xp.MemoryObjectTerminate.newBuilder().setObjectId(1)).build());
        assertThat(map.work() - before).as("one scan of A's objects, and o0's one futex")
                .isLessThanOrEqualTo(objects + 1 + 1);
        assertThat(map.hintFor(2, 1, 8).objectId()).as("o0 is named by its other id now").isEqualTo(100);
        assertThat(map.hintFor(2, 2, 8).objectId()).isEqualTo(2);
    }
}
