package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.policy.DirectHandoff;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A direct handoff's holder H leaves without a release (xp-spec 14.4): with several pagers H may
 * be cut off from the futex's pager but not from the target K, so H's owner unlocks, the copy
 * reaches K (which writes under it) and H's release is lost with its stream; the pager declares H
 * dead at its lease's end. The forward then settles as at a release: K is granted the futex under
 * the reserved token and made the page's writer with the pager's copy (the copy K may hold is
 * newer), so K's release, which carries H's last writes and its own, is taken. A request for the
 * page waiting meanwhile goes on only after that grant is sent.
 *
 * <p>Found by `machxp chaos --variant direct --pagers 2` (seeds 14, 32, 42, 49, 58 and 74 of
 * 100): the forget of H's pages lifted the gate first, K was not made the writer, and K's release
 * was refused; the next owner read the pager's older copy without OWNER_DIED. Keeping the gate
 * alone sent a waiting request's revoke to K ahead of K's grant (`--mix contended` seed 15): K
 * answered for a page it did not have yet, the pager counted it a reader, and refused its return.
 */
class DirectHandoffHolderLeavesTest {
    private final XpKernels k = new XpKernels(new FailingStore(0), new PagerOptions(1_000_000_000L, 3)
            .withGrantPolicy(new DirectHandoff()));
    private final long h = k.kernel(1, "H");
    private final long kk = k.kernel(2, "K");
    private final long c = k.kernel(3, "C");
    private MemoryObjectRelinquishFutex order;

    /** H holds the futex at 0 and writes its page; K asks for it: H is told to forward it to K. */
    private void forwardOrdered() {
        k.lockFutex(h, 0);
        k.take(h);
        k.write(h, 0);
        k.take(h);
        k.lockFutex(kk, 0);
        order = k.one(h).getMemoryObjectRelinquishFutex();
        assertThat(order.getForwardTo()).as("a forward ordered to K").isNotZero();
    }

    /** H unlocks and copies to K, but its release is lost with its stream; its lease ends. */
    private void hLeavesWithoutARelease() {
        k.pager.sessionClosed(h);
        k.advanceHeard(3_000_000_000L, 100_000_000L, kk, c);
        assertThat(k.declaredDead).containsKey("H");
    }

    private MemoryObjectFutexGranted grantOf(List<PagerToKernel> ms) {
        List<MemoryObjectFutexGranted> grants = ms.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted)
                .map(PagerToKernel::getMemoryObjectFutexGranted).toList();
        assertThat(grants).hasSize(1);
        return grants.get(0);
    }

    /** Fails on 47448c93: the grant carries no page and K's release with its page is refused. */
    @Test
    void theTargetIsMadeThePagesWriterAndItsReleaseIsTaken() {
        forwardOrdered();
        hLeavesWithoutARelease();

        MemoryObjectFutexGranted g = grantOf(k.take(kk));
        assertThat(g.getFencingToken()).as("the reserved grant").isEqualTo(order.getForwardToken());
        assertThat(g.getOwnerDied()).as("H declared dead: K, if it took no copy, sees OWNER_DIED").isTrue();
        assertThat(g.getPagesList()).as("K is the page's writer").extracting(p -> p.getOffset()).containsExactly(0L);

        long refused = k.stats.refused();
        k.futexReleased(kk, 0, XpKernels.dirtyPage(0, page(5))); // H's last writes and K's, from the copy
        assertThat(k.stats.refused()).as("K's release and its page are taken").isEqualTo(refused);
        k.read(c, 0);
        XpKernels.assertReadCopy(k.one(c), 0, page(5));
    }

    /**
     * C asks for the page while the order stands (the order withdrawn, H asked for the page; H,
     * cut off, answers neither). At H's death C's request goes on behind K's grant. Fails on
     * 47448c93 (C is supplied the pager's older copy at once, K's grant carries no page) and with
     * the gate kept alone (the downgrade reaches K before the grant).
     */
    @Test
    void aRequestWaitingForThePageGoesOnBehindTheTargetsGrant() {
        forwardOrdered();
        k.read(c, 0);
        List<PagerToKernel> toH = k.take(h);
        assertThat(toH).anyMatch(m -> m.hasMemoryObjectRelinquishFutex()
                && m.getMemoryObjectRelinquishFutex().getForwardTo() == 0); // the order withdrawn
        assertThat(toH).anyMatch(PagerToKernel::hasMemoryObjectLockRequest); // H asked for the page
        hLeavesWithoutARelease();
        k.nothingTo(c);

        List<PagerToKernel> toK = k.take(kk);
        assertThat(toK).hasSize(2);
        assertThat(toK.get(0).hasMemoryObjectFutexGranted()).as("the grant first").isTrue();
        assertThat(toK.get(0).getMemoryObjectFutexGranted().getPagesCount()).isEqualTo(1);
        XpKernels.assertDowngrade(toK.get(1), 0);

        long refused = k.stats.refused();
        k.returnDirty(kk, 0, page(5), true);
        k.lockCompleted(kk, 0);
        assertThat(k.stats.refused()).as("K's return is taken").isEqualTo(refused);
        XpKernels.assertReadCopy(k.take(c).get(0), 0, page(5)); // (then H's death is recorded in the page)
    }
}
