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
 * And from the review of directfix, finding 1: K gave the futex back early with request_again
 * (its other local threads still waited), then left (its session forgotten or broken, or the
 * object terminated). Handling that release as K's queued K again: the futex went to a kernel
 * that never gives it back, or the core failed on K's object id halfway through H's release.
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
        kGivesItBackEarly(false, pages);
    }

    /** The same, asking for it again ({@code request_again}: K's other threads still wait) if so. */
    private void kGivesItBackEarly(boolean requestAgain, PageData... pages) {
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(order.getForwardToken()).setRequestAgain(requestAgain)
                .addAllPages(List.of(pages))));
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
        List<MemoryObjectFutexGranted> grants = grants(ms);
        assertThat(grants).hasSize(1);
        return grants.get(0);
    }

    private static List<MemoryObjectFutexGranted> grants(List<PagerToKernel> ms) {
        return ms.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted)
                .map(PagerToKernel::getMemoryObjectFutexGranted).toList();
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

    /**
     * Fails on the old code: C is never granted. K's early release asked again, and K was
     * forgotten before H's release: the futex went to K, which can never give it back.
     */
    @Test
    void aForgottenTargetsRequestAgainAsksForNothing() {
        forwardOrdered();
        kGivesItBackEarly(true, XpKernels.dirtyPage(0, page(2)));
        leaves(kk, h, c);
        hReleases();
        k.take(h);
        assertThat(k.pager.holderOf("obj", 0)).as("free: the forgotten K asks for nothing").isNull();

        k.lockFutex(c, 0);
        k.advanceHeard(LEASE_AND_MORE, STEP, h, c);
        List<MemoryObjectFutexGranted> g = grants(k.take(c));
        assertThat(g).as("C granted, not left behind a forgotten K").hasSize(1);
        assertCarriesKsPage(g.get(0));
    }

    /** The grant carries the page as K's early release left it: K's writes under the copy are kept. */
    private static void assertCarriesKsPage(MemoryObjectFutexGranted g) {
        assertThat(g.getPagesList()).hasSize(1);
        assertThat(g.getPages(0).getOffset()).isZero();
        assertThat(g.getPages(0).getData().toByteArray()).isEqualTo(page(2));
    }

    /**
     * Fails on the old code: C's second lock is never granted. With C already waiting, the
     * forgotten K was queued behind it and got the futex at C's release.
     */
    @Test
    void aForgottenTargetsRequestAgainIsNotQueuedBehindAWaiter() {
        forwardOrdered();
        k.lockFutex(c, 0); // C waits behind K
        kGivesItBackEarly(true, XpKernels.dirtyPage(0, page(2)));
        leaves(kk, h, c);
        k.take(c);
        hReleases();
        k.take(h);
        MemoryObjectFutexGranted g = grantOf(k.take(c));
        assertThat(g.getRelinquish()).as("nobody else waits").isFalse();

        k.futexReleased(c, 0);
        k.take(c);
        k.lockFutex(c, 0);
        k.advanceHeard(LEASE_AND_MORE, STEP, h, c);
        assertThat(grants(k.take(c))).as("C granted again, not left behind a forgotten K").hasSize(1);
    }

    /**
     * Fails on the old code: H's release fails in the core on K's object id (K, queued again,
     * was granted the futex on an object it terminated), and C is never granted.
     */
    @Test
    void aTerminatedTargetsRequestAgainAsksForNothing() {
        forwardOrdered();
        kGivesItBackEarly(true, XpKernels.dirtyPage(0, page(2)));
        k.terminate(kk);
        k.take(kk);
        hReleases();
        k.take(h);
        assertThat(k.pager.holderOf("obj", 0)).as("free: K terminated the object").isNull();

        k.lockFutex(c, 0);
        List<MemoryObjectFutexGranted> g = grants(k.take(c));
        assertThat(g).as("C granted at once").hasSize(1);
        assertCarriesKsPage(g.get(0));
    }

    /**
     * Fails on the old code: C waits for K's lease to end. K's stream broke after its early
     * release with request_again (it holds a page, so its session stays until its lease ends); a
     * broken session waits in no queue (xp-spec 4.4), so it is not queued again.
     */
    @Test
    void aBrokenTargetsRequestAgainAsksForNothing() {
        forwardOrdered();
        k.read(kk, XpKernels.PAGE); // K holds a page: its session outlives its stream until its lease ends
        k.take(kk);
        kGivesItBackEarly(true, XpKernels.dirtyPage(0, page(2)));
        k.pager.sessionClosed(kk);
        hReleases();
        k.take(h);
        assertThat(k.pager.holderOf("obj", 0)).as("free: a broken K asks for nothing").isNull();

        k.lockFutex(c, 0);
        assertThat(grants(k.take(c))).as("C granted at once, not after K's lease").hasSize(1);
    }
}
