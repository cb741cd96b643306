package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A release the pager takes on the kernel's behalf while the
 * kernel keeps the page writable (ReclaimRetry.settle: a reclaim again that no longer names a
 * futex, "the kernel had given it back") is not marked on the session, so seed 474's ESRCH comes
 * back on that path: A's copy unlocked the word, A dies, the page reverts to the pager's copy
 * naming A's thread, and the futex had neither a record nor a mark (review deaths3 MED-1; the
 * mark is PagerFutexes.markIfWriting, for both paths).
 */
class ReclaimAgainReleaseMarkTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long OLD_TOKEN = 3L << 32 | 17;
    private static final int ID = 5;
    private static final int A_TID = ID << 20 | 1;

    private void reclaim(XpKernels x, long session, long attempt, List<ReclaimedFutex> futexes) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)
                .setReclaim(Reclaim.newBuilder().setKernelId(ID).setBootNonce(0x5eed).setAttempt(attempt)
                        .addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                                .setPageSize(XpKernels.PAGE).addAllFutexes(futexes)
                                .addPages(ReclaimedPage.newBuilder().setOffset(0)
                                        .setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(1))))));
    }

    @Test
    void aFutexReleasedBySettleKeepingThePageIsJudgedAtItsWritersDeath() {
        MemoryPageStore store = new MemoryPageStore();
        store.write("obj", 0, FutexWords.pageWithWord(0, A_TID), 1); // A's thread owned it when the page last came back
        XpKernels x = new XpKernels(store, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaim(x, 1, 1, List.of(ReclaimedFutex.newBuilder().setOffset(0).setFencingToken(OLD_TOKEN).build()));
        assertThat(x.one(1).getPagerWelcome().getKernelId()).isEqualTo(ID);
        x.pager.sessionClosed(1); // the welcome lost with the stream; meanwhile A's thread unlocked in its copy
        x.advance(LEASE / 4);
        reclaim(x, 2, 2, List.of()); // the futex not named again: released by settle; page 0 still A's, writable
        assertThat(x.ended).doesNotContainKey(2L);
        x.take(2);
        assertThat(x.pager.pageWriter("obj", 0)).isEqualTo("A");
        for (int i = 0; i < 5 && x.pager.inGrace(); i++) {
            x.advance(LEASE / 4);
            x.keepalive(2, 100 + i);
            x.take(2);
        }
        assertThat(x.pager.inGrace()).isFalse();
        assertThat(x.pager.holderOf("obj", 0)).isNull();
        x.pager.sessionClosed(2);
        x.advance(2 * LEASE);
        assertThat(x.declaredDead).containsKey("A");
        long b = x.kernel(3, "B");
        x.take(b);
        x.read(b, 0);
        byte[] page = x.one(b).getMemoryObjectDataSupply().getData().toByteArray();
        assertThat(wordAt(page, 0)).as("the reverted copy names dead A's thread: judged, as a released futex's word")
                .isEqualTo(OWNER_DIED);
    }
}
