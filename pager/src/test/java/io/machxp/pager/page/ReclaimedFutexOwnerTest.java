package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import org.junit.jupiter.api.Test;

/**
 * A futex reclaimed after a restart must be one the last pager granted to the reclaiming kernel
 * (its holders' journal says which), under a token an earlier pager gave, read as uint64
 * (docs/xp-spec.md 9.4, 9.5): anything else ends the reclaiming session with EINVAL.
 */
class ReclaimedFutexOwnerTest {
    private static final long LEASE = 1_000_000_000L;
    private final MemoryPageStore disk = new MemoryPageStore();

    /** Kernel "A" holds futex 0 of "obj" at a pager of epoch 3, which crashes; returns its token. */
    private long aHeldFutexZeroAtTheCrash() {
        XpKernels before = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = before.kernel(1, "A");
        before.lockFutex(a, 0);
        PagerToKernel granted = before.take(a).stream().filter(PagerToKernel::hasMemoryObjectFutexGranted)
                .findFirst().orElseThrow();
        return granted.getMemoryObjectFutexGranted().getFencingToken();
    }

    private static void reclaim(XpKernels x, long session, String name, int id, long offset, long token) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(id).addObjects(
                        ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                                .setPageSize(XpKernels.PAGE).addFutexes(ReclaimedFutex.newBuilder()
                                        .setOffset(offset).setFencingToken(token))))));
    }

    /**
     * The reviewer's p21: "evil" reclaims A's id and futex. It is refused before its welcome, so
     * the id stays free, and A reclaims both.
     */
    @Test
    void aFutexTheJournalGaveAnotherKernelIsNotReclaimed() {
        long token = aHeldFutexZeroAtTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaim(after, 1, "evil", 1, 0, token);
        assertThat(after.ended.get(1L)).startsWith("EINVAL").contains("it reclaims futex 0x0 of 'obj', which the "
                + "last pager granted to kernel 'A', not to this one").endsWith("restart the kernel");
        assertThat(after.take(1)).noneMatch(PagerToKernel::hasPagerWelcome);
        reclaim(after, 2, "A", 1, 0, token);
        assertThat(after.take(2).get(0).getPagerWelcome().getKernelId()).isEqualTo(1);
        assertThat(after.ended).doesNotContainKey(2L);
        assertThat(after.pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(after.pager.fencingToken("obj", 0)).isEqualTo(token);
    }

    /** Another kernel's futex under another id (the reviewer's evil2) is refused too. */
    @Test
    void aFutexTheJournalGaveAnotherKernelIsNotReclaimedUnderAnotherId() {
        long token = aHeldFutexZeroAtTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaim(after, 1, "evil2", 900, 0, token);
        assertThat(after.ended.get(1L)).startsWith("EINVAL").contains("granted to kernel 'A'");
        assertThat(after.pager.holderOf("obj", 0)).isNull();
    }

    /**
     * Review R2, spec 14.6: under direct handoff the journal may still name H when the pager
     * crashes after ordering H's forward to K, which took the copy under T (the next grant's token):
     * K reclaims the futex under T and H names nothing. K must be taken, holding H's last writes,
     * whichever of the two reconnects first; the old check refused K's whole reclaim (EINVAL).
     */
    @Test
    void underDirectHandoffTheKernelAForwardReachedReclaimsTheFutexTheJournalGivesItsForwarder() {
        long token = aHeldFutexZeroAtTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE)
                .withGrantPolicy(new io.machxp.pager.policy.DirectHandoff()));
        reclaim(after, 1, "K", 2, 0, token + 1);
        assertThat(after.ended).doesNotContainKey(1L);
        assertThat(after.take(1).get(0).getPagerWelcome().getKernelId()).isEqualTo(2);
        assertThat(after.pager.holderOf("obj", 0)).isEqualTo("K");
        assertThat(after.pager.fencingToken("obj", 0)).isEqualTo(token + 1);
        assertThat(disk.holders()).anyMatch(h -> h.offset() == 0 && h.kernel().equals("K"));
    }

    /** F6: a token of 2^63 or more is no earlier pager's (epochs are below 2^31). */
    @Test
    void aTokenOfTwoToThe63OrMoreIsNotAnEarlierPagersToken() {
        aHeldFutexZeroAtTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaim(after, 1, "A", 1, 0, -1L);
        assertThat(after.ended.get(1L)).startsWith("EINVAL")
                .contains("token 18446744073709551615 is not one an earlier pager gave");
        assertThat(after.pager.holderOf("obj", 0)).isNull();
        reclaim(after, 2, "B", 2, 4, Long.MIN_VALUE); // a futex nobody held, token 2^63
        assertThat(after.ended.get(2L)).startsWith("EINVAL").contains("token 9223372036854775808");
        assertThat(after.pager.holderOf("obj", 4)).isNull();
    }
}
