package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * A grantee caching a futex whose grant named a stale heir (stale_heir_tid, xp-spec 8.4), without
 * ever having its page writable, does not keep the heir's TID prefix refused (staleheir review
 * MED-2): the pager's forced look at that prefix (a hello stating it refused, xp-spec 2.9) asks
 * the futex back as it asks back one granted with owner_died (deaths review MED-1), and records
 * it once back. Before, such a futex was left to its grantee, and the prefix stayed refused, and
 * its id resting, for as long as the grantee cached the futex.
 */
class StaleHeirCachedGranteeTest {
    private static final String FEATURE = "stale_heir_tid";
    private static final long LEASE = 1_000_000_000L;
    private static final long FUTEX = 0x20;

    @Test
    void aCachingGranteeIsAskedBackAndThePrefixFreed() {
        MemoryPageStore store = new MemoryPageStore();
        XpKernels x = new XpKernels(store, LEASE);
        long s = x.kernel(1, "S", FEATURE); // id and TID prefix 1
        long b = x.kernel(2, "B", FEATURE);
        int heir = 1 << 20 | 5;
        x.lockFutex(s, FUTEX);
        assertThat(x.one(s).hasMemoryObjectFutexGranted()).isTrue();
        x.write(s, 0);
        x.take(s);
        x.lockFutex(b, FUTEX); // B waits: S is asked to give it back
        x.take(s);
        // S's shutdown: the unlock's heir left, its word (here, in S's writable copy) names it.
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(FUTEX).setFencingToken(x.pager.fencingToken("obj", FUTEX))
                .setStaleHeirTid(heir)));
        MemoryObjectFutexGranted toB = x.one(b).getMemoryObjectFutexGranted();
        assertThat(toB.getStaleHeirTid()).isEqualTo(heir);
        x.returnDirty(s, 0, FutexWords.pageWithWord(FUTEX, FutexWords.WAITERS | heir), false);
        x.terminate(s);
        x.pager.sessionClosed(s);
        // B caches the futex (its waiter left) and never asks for the page: the pager's copy names the heir.
        assertThat(FutexWords.wordAt(store.read("obj", 0), FUTEX) & 0x3fffffff).isEqualTo(heir);

        assertThat(XpKernels.welcomed(x.helloWithPrefix(3, "C", 1))).as("prefix 1 is in a word").isFalse();
        assertThat(x.take(b)).as("B asked for the futex back").anyMatch(m -> m.hasMemoryObjectRelinquishFutex()
                && m.getMemoryObjectRelinquishFutex().getOffset() == FUTEX);
        // B never had the page: its release names the heir again; the pager settles it in its copy.
        x.xp(b, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(FUTEX).setFencingToken(toB.getFencingToken()).setStaleHeirTid(heir)));
        boolean welcomed = false;
        for (long session = 4; session < 7 && !welcomed; session++) {
            welcomed = XpKernels.welcomed(x.helloWithPrefix(session, "C", 1));
        }
        assertThat(welcomed).as("prefix 1 free once the heir's word is settled").isTrue();
        assertThat(FutexWords.wordAt(store.read("obj", 0), FUTEX)).as("freed as its grantee would").isZero();
        x.lockFutex(b, FUTEX);
        assertThat(x.take(b)).filteredOn(PagerToKernel::hasMemoryObjectFutexGranted).singleElement()
                .matches(m -> m.getMemoryObjectFutexGranted().getStaleHeirTid() == 0
                        && !m.getMemoryObjectFutexGranted().getOwnerDied());
    }
}
