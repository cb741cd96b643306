package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.policy.DirectHandoff;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A direct handoff (xp-spec 14) whose target K leaves before the forward settles, from the review
 * of direct2p (docs/workbench.md):
 * <ul>
 * <li>Finding 1: K gone, then the holder H declared dead. The settle ran the page's waiting
 * operations before it raised the futex's token to the forward's; a queued death recording among
 * them pruned the futex's record with its old token, so the next grant reused the token K may have
 * used under the copy ({@code chaos --variant direct --pagers 2 --fault-gap-ms 30}: seeds 140, 293,
 * 668, 896).</li>
 * <li>Finding 2: K gave the futex back early without the page, then left (its session forgotten,
 * or the object terminated). The settle made K the page's writer for good: the next request for
 * the page waited for a revoke K never answers, or failed on K's object id.</li>
 * <li>Finding 3: K took the copy and gave the futex back early, saying no owner died; H was then
 * declared dead. The next grant carried the owner_died of H's death, though H's owner had unlocked
 * to K and K had released cleanly.</li>
 * </ul>
 */
class DirectHandoffTargetGoneTest {
    private static final long STEP = 100_000_000L;
    private static final long LEASE_AND_MORE = 3_000_000_000L;

    private final XpKernels k = new XpKernels(new FailingStore(0), new PagerOptions(1_000_000_000L, 3)
            .withGrantPolicy(new DirectHandoff()));
    private final long h = k.kernel(1, "H");
    private final long kk = k.kernel(2, "K");
    private final long c = k.kernel(3, "C");
    private long heldToken;
    private MemoryObjectRelinquishFutex order;

    /** H holds the futex at 0 and writes its page; K asks for it: H is told to forward it to K. */
    private void forwardOrdered() {
        k.lockFutex(h, 0);
        heldToken = k.one(h).getMemoryObjectFutexGranted().getFencingToken();
        k.write(h, 0);
        k.take(h);
        k.lockFutex(kk, 0);
        order = k.one(h).getMemoryObjectRelinquishFutex();
        assertThat(order.getForwardTo()).as("a forward ordered to K").isNotZero();
    }

    /** K, having taken H's copy, gives the futex back under the forward's token before its grant. */
    private void kGivesItBackEarly(PageData... pages) {
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(order.getForwardToken()).addAllPages(List.of(pages))));
    }

    /** The session's stream ends and its lease runs out while the others are heard: it is forgotten. */
    private void leaves(long gone, long... heard) {
        k.pager.sessionClosed(gone);
        k.advanceHeard(LEASE_AND_MORE, STEP, heard);
    }

    /** H's release, whose copy went to K under the forward's token, with H's page. */
    private void hReleases() {
        k.xp(h, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(heldToken).setForwardedToken(order.getForwardToken())
                .addPages(XpKernels.dirtyPage(0, page(1)))));
    }

    private static MemoryObjectFutexGranted grantOf(List<PagerToKernel> ms) {
        List<MemoryObjectFutexGranted> grants = ms.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted)
                .map(PagerToKernel::getMemoryObjectFutexGranted).toList();
        assertThat(grants).hasSize(1);
        return grants.get(0);
    }

    /** Fails on the old code: C is granted the forward's token itself (the record pruned before the raise). */
    @Test
    void theNextTokenIsAboveTheForwardsWhenTargetAndHolderAreBothGone() {
        forwardOrdered();
        leaves(kk, h, c); // K crashed (it may have taken the copy and written under it)
        leaves(h, c); // H cut off: its release is lost, its lease ends
        assertThat(k.declaredDead).containsKey("H");
        k.take(c);

        k.lockFutex(c, 0);
        MemoryObjectFutexGranted g = grantOf(k.take(c));
        assertThat(g.getFencingToken()).as("above the token K may have used under the copy")
                .isGreaterThan(order.getForwardToken());
        k.read(c, 0);
        int word = k.take(c).get(0).getMemoryObjectDataSupply().getData().asReadOnlyByteBuffer()
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
        assertThat(g.getOwnerDied() || (word & 0x40000000) != 0).as("C is told an owner died").isTrue();
    }

    /** Fails on the old code: C's read waits for a revoke sent to the forgotten K, for good. */
    @Test
    void aForgottenTargetsEarlyReleaseWithoutThePageLeavesThePageToOthers() {
        forwardOrdered();
        kGivesItBackEarly(); // the page left K some other way
        leaves(kk, h, c);
        hReleases();
        k.take(h);
        k.read(c, 0);
        XpKernels.assertReadCopy(k.one(c), 0, page(1));
    }

    /** Fails on the old code: C's read fails in the core on K's object id (K terminated the object). */
    @Test
    void aTerminatedTargetsEarlyReleaseWithoutThePageLeavesThePageToOthers() {
        forwardOrdered();
        kGivesItBackEarly();
        k.terminate(kk);
        k.take(kk);
        hReleases();
        k.take(h);
        k.read(c, 0);
        XpKernels.assertReadCopy(k.one(c), 0, page(1));
    }

    /** The page a forgotten K's early release carries is still taken: its writes under the copy stay. */
    @Test
    void aForgottenTargetsEarlyReleaseWithThePageIsTaken() {
        forwardOrdered();
        kGivesItBackEarly(XpKernels.dirtyPage(0, page(2)));
        leaves(kk, h, c);
        long refused = k.stats.refused();
        hReleases();
        assertThat(k.stats.refused()).as("H's release and K's early one are taken").isEqualTo(refused);
        k.take(h);
        k.read(c, 0);
        XpKernels.assertReadCopy(k.one(c), 0, page(2));
    }

    /**
     * Fails on the old code: C is granted with owner_died. H's owner unlocked to K (K took the
     * copy) and K gave the futex back saying no owner died, so no owner died holding it.
     */
    @Test
    void noOwnerDiedAfterTheTargetsCleanEarlyReleaseWhenTheHolderIsDeclaredDead() {
        forwardOrdered();
        k.lockFutex(c, 0); // C waits behind K
        kGivesItBackEarly(XpKernels.dirtyPage(0, page(2)));
        leaves(h, kk, c);
        assertThat(k.declaredDead).containsKey("H");

        MemoryObjectFutexGranted g = grantOf(k.take(c));
        assertThat(g.getFencingToken()).isGreaterThan(order.getForwardToken());
        assertThat(g.getOwnerDied()).as("no owner died holding the futex").isFalse();
        k.futexReleased(c, 0);
        assertThat(k.pager.ownerDiedPending("obj", 0)).isFalse();
        assertThat(k.pager.recordCounts()).as("no dead TID is left in the word: H's id is free, the record pruned")
                .containsEntry("deadKernelIdsInWords", 0).containsEntry("futexes", 0);
        k.take(kk);
        k.read(kk, 0);
        XpKernels.assertReadCopy(k.one(kk), 0, page(2)); // K's page: the pager wrote no OWNER_DIED into the word
    }
}
